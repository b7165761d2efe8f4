/**
 * A server whose S3 store cannot be reached (its endpoint is a closed local
 * port): it reports itself alive but not ready, and it never answers "not
 * found" for what it merely cannot see, so no client forgets an upload and no
 * file is dropped.
 */
import { UPLOAD_ONLY } from './helpers/backends.ts'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as files from '../server/db/file.repository.ts'
import { LOCAL_USER } from '../server/auth/principal.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { patch, TUS } from './helpers/tus.ts'

const UNREACHABLE_S3 = {
  S3_BUCKET: 'unreachable',
  S3_ENDPOINT: 'http://127.0.0.1:1',
  S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  S3_SECRET_ACCESS_KEY: 'not-a-real-secret',
  S3_FORCE_PATH_STYLE: 'true',
}

describe('a server whose storage is unreachable', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ name: 'unreachable-s3+pglite', postgres: false, s3: false }, { ...UNREACHABLE_S3, ...UPLOAD_ONLY })
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** A file the database knows about (finished unless `uploading`), whose bytes are in the store nobody can reach. */
  async function recordedFile(uploading = false): Promise<string> {
    const id = randomUUID()
    await files.insertUpload(server.db, {
      id,
      ownerId: LOCAL_USER,
      filename: 'report.pdf',
      contentType: 'application/pdf',
      declaredSize: 10,
      storageBackend: 's3',
      storageKey: id,
      uploadMetadata: { filename: 'report.pdf' },
      expiresAt: new Date(Date.now() + 86_400_000),
    })
    if (!uploading) await files.markUploaded(server.db, id, 10)
    return id
  }

  it('answers /healthz 200 and /readyz 503 with the storage unavailable', async () => {
    const health = await fetch(`${server.url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', storage: { backend: 's3', status: 'unavailable' } } })
  })

  // An upload the database knows: only the store can say where it stands, and the store is down.
  it('answers a tus HEAD with 503, never 404, so the client keeps its upload', async () => {
    const res = await fetch(`${server.url}/files/${await recordedFile(true)}`, { method: 'HEAD', headers: TUS })
    expect(res.status).toBe(503)
  })

  it('answers a tus PATCH with 503, never 404', async () => {
    const res = await patch(`${server.url}/files/${await recordedFile(true)}`, 0, new Uint8Array(10))
    expect(res.status).toBe(503)
    expect(await res.text()).toMatch(/^ERR_STORAGE_UNAVAILABLE: /)
  })

  it('answers a download with a 5xx JSON error, never 404', async () => {
    const id = await recordedFile()
    const res = await fetch(`${server.url}/api/files/${id}/content`)
    expect(res.status).toBeGreaterThanOrEqual(500)
    expect(await res.json()).toEqual({ error: { code: expect.stringMatching(/^ERR_/), message: expect.any(String) } })
  })

  it('keeps the file when a DELETE cannot reach the storage', async () => {
    const id = await recordedFile()
    const res = await fetch(`${server.url}/api/files/${id}`, { method: 'DELETE' })
    expect(res.status).toBeGreaterThanOrEqual(500)
    const after = await fetch(`${server.url}/api/files/${id}`)
    expect(after.status).toBe(200)
    expect(await after.json()).toMatchObject({ id, status: 'uploaded' })
  })
})
