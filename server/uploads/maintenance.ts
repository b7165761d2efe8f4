/**
 * Background upkeep of uploads, driven by the file table so that it touches
 * only this server's own uploads (never a whole bucket):
 * - reconcile: an upload whose last byte is stored but whose row still says
 *   'uploading' (the process died between the two) is finished now;
 * - expire: unfinished uploads past their expiry lose their stored bytes and
 *   their row becomes 'failed' (upload_expired), so the tus endpoint answers 410.
 */
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import * as files from '../db/file.repository.ts'
import type { Database } from '../db/schema.ts'
import type { Storage } from '../storage/storage.ts'
import { isFinished, type UploadHooks } from '../tus/context.ts'
import { type UploadLocker, whileLocked } from '../locks/upload-locker.ts'
import { EXPIRED_ERROR } from './upload-hooks.ts'

type Deps = { db: Kysely<Database>; storage: Storage; hooks: UploadHooks; locker: UploadLocker; log: Logger }

const PAGE = 200

export async function reconcileUploads(deps: Deps): Promise<{ finished: number; checked: number }> {
  let afterId: string | null = null
  let finished = 0
  let checked = 0
  for (;;) {
    const page = await files.listUploading(deps.db, afterId, PAGE)
    for (const file of page) {
      checked++
      try {
        const upload = await deps.storage.datastore.getUpload(file.id)
        if (isFinished(upload)) {
          await deps.hooks.finished(file.id, upload.offset)
          finished++
        }
      } catch (err) {
        deps.log.debug({ err, uploadId: file.id }, 'reconcile.skipped')
      }
    }
    if (page.length < PAGE) break
    afterId = page[page.length - 1]?.id ?? null
  }
  return { finished, checked }
}

export async function expireUploads(deps: Pick<Deps, 'db' | 'storage' | 'locker' | 'log'>, now = new Date()): Promise<number> {
  let expired = 0
  for (;;) {
    const page = await files.listExpiredUploads(deps.db, now, PAGE)
    for (const file of page) {
      // A PATCH still running on an expired upload is asked to stop.
      await whileLocked(
        deps.locker,
        file.id,
        async () => {
          // Whoever held the lock may have finished it meanwhile (a last PATCH, a confirm, a complete): then it stays.
          if ((await files.findFile(deps.db, file.id))?.status !== 'uploading') return
          await deps.storage.remove(file.id)
          await files.markFailed(deps.db, file.id, EXPIRED_ERROR)
          expired++
          deps.log.info({ uploadId: file.id }, 'upload.expired')
        },
        30_000,
      )
    }
    if (page.length < PAGE) break
  }
  return expired
}
