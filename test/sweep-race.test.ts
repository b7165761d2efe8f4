/**
 * The expiry sweep and a finish that lands at the same moment, on every
 * backend: the sweep lists an expired upload, then waits for its upload lock;
 * if whoever held the lock finished the upload meanwhile (a last PATCH, a
 * presigned confirm or complete), the sweep leaves it: the row stays
 * 'uploaded' and its bytes stay stored.
 */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as files from '../server/db/file.repository.ts'
import { QueueLocker } from '../server/locks/queue-locker.ts'
import { expireUploads } from '../server/uploads/maintenance.ts'
import { backends, UPLOAD_ONLY } from './helpers/backends.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { createUpload, idOf, patch, randomData } from './helpers/tus.ts'

describe.each(backends())('the expiry sweep racing a finish on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, UPLOAD_ONLY)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('leaves an upload finished while it waited for the lock, bytes and row', async () => {
    const url = await createUpload(server.url, 10)
    expect((await patch(url, 0, randomData(5))).status).toBe(204)
    const id = idOf(url)
    await server.db.updateTable('file').set({ expires_at: new Date(Date.now() - 60_000) }).where('id', '=', id).execute()
    const stored = await server.storage.leftovers(id)
    expect(stored.length).toBeGreaterThan(0)

    // Hold the upload's lock as a finishing request would; the sweep asks us to let go once it waits for it.
    const locker = new QueueLocker()
    const held = locker.newLock(id)
    let asked!: () => void
    const sweepWaits = new Promise<void>((resolve) => (asked = resolve))
    await held.lock(AbortSignal.timeout(10_000), () => asked())
    const remove = vi.spyOn(server.storage, 'remove')
    try {
      const sweeping = expireUploads({ db: server.db, storage: server.storage, locker, log: pino({ level: 'silent' }) })
      await sweepWaits
      // The holder finishes the upload, then lets go.
      expect(await files.markUploaded(server.db, id, 10)).toBe(true)
      await held.unlock()
      expect(await sweeping).toBe(0)
      expect(remove).not.toHaveBeenCalledWith(id)
    } finally {
      remove.mockRestore()
    }
    expect((await files.findFile(server.db, id))?.status).toBe('uploaded')
    expect(await server.storage.leftovers(id)).toEqual(stored)
  })
})
