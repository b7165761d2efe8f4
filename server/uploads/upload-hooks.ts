/** The tus layer's hooks, backed by the file table. */
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import * as files from '../db/file.repository.ts'
import * as jobs from '../db/job.repository.ts'
import type { Database } from '../db/schema.ts'
import type { Metrics } from '../metrics.ts'
import type { Storage } from '../storage/storage.ts'
import type { UploadHooks } from '../tus/context.ts'
import { contentTypeOf, conversationIdOf, filenameOf } from './upload-metadata.ts'

export const EXPIRED_ERROR = { code: 'upload_expired', message: 'the upload was not finished before it expired; its bytes were removed' }

export type UploadHookDeps = {
  db: Kysely<Database>
  storage: Storage
  log: Logger
  metrics: Pick<Metrics, 'uploadCreated' | 'uploadFinished'>
  /** Told after an upload's row and job are committed (wakes the worker, wakes waiters). */
  onFinished?: (id: string) => void
}

export function createUploadHooks(deps: UploadHookDeps): UploadHooks {
  const { db, storage, log, metrics, onFinished } = deps
  return {
    async created({ id, ownerId, size, metadata, expiresAt }) {
      await files.insertUpload(db, {
        id,
        ownerId,
        conversationId: conversationIdOf(metadata),
        filename: filenameOf(metadata),
        contentType: contentTypeOf(metadata),
        declaredSize: size,
        storageBackend: storage.backend,
        storageKey: storage.keyFor(id),
        uploadMetadata: metadata,
        expiresAt,
      })
      metrics.uploadCreated()
    },
    async ownerOf(id) {
      return (await files.findFile(db, id))?.ownerId
    },
    async lengthDeclared(id, size) {
      await files.setDeclaredSize(db, id, size)
    },
    async finished(id, size) {
      // The row and its processing job are written together: a finished upload is never left without its job.
      const first = await db.transaction().execute(async (trx) => {
        if (!(await files.markUploaded(trx, id, size))) return false
        await jobs.enqueueJob(trx, id)
        return true
      })
      if (first) {
        metrics.uploadFinished(size)
        log.info({ uploadId: id, size }, 'upload.finished')
        onFinished?.(id)
      }
    },
    async terminated(id) {
      await files.deleteFile(db, id)
    },
    async expired(id) {
      const file = await files.findFile(db, id)
      return file?.error?.code === EXPIRED_ERROR.code
    },
  }
}
