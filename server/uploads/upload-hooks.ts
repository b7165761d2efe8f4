/** The tus layer's hooks, backed by the file table. */
import type { Kysely, Transaction } from 'kysely'
import { AppError } from '../errors.ts'
import { type TypeRules, typeRefusal } from './upload-rules.ts'
import type { Logger } from 'pino'
import * as files from '../db/file.repository.ts'
import * as jobs from '../db/job.repository.ts'
import type { Database } from '../db/schema.ts'
import type { Metrics } from '../metrics.ts'
import type { Storage } from '../storage/storage.ts'
import type { UploadHooks } from '../tus/context.ts'
import { contentTypeOf, conversationIdOf, filenameOf } from './upload-metadata.ts'

export const EXPIRED_ERROR = { code: 'upload_expired', message: 'the upload was not finished before it expired; its bytes were removed' }

export type UploadLimits = {
  /** Bytes each owner may hold; undefined: no quota. */
  quotaBytes?: number
  typeRules: TypeRules
}

export type UploadHookDeps = {
  limits: UploadLimits
  db: Kysely<Database>
  storage: Storage
  log: Logger
  metrics: Pick<Metrics, 'uploadCreated' | 'uploadFinished'>
  /** Told after an upload's row and job are committed (wakes the worker, wakes waiters). */
  onFinished?: (id: string) => void
}

export function createUploadHooks(deps: UploadHookDeps): UploadHooks {
  const { db, storage, log, metrics, onFinished, limits } = deps

  /**
   * Refuses the first of `adding` that would take the owner past the quota, in order; a refusal says its `name` first.
   * `except`: the uploads being counted in `adding` (their declared sizes are not counted twice).
   * The lock makes parallel creations and finishes of one owner take turns.
   */
  async function checkQuota(trx: Transaction<Database>, ownerId: string, adding: { size: number; name?: string }[], except: string[] = []): Promise<void> {
    const quota = limits.quotaBytes as number
    await files.lockOwner(trx, ownerId)
    let held = await files.bytesHeldBy(trx, ownerId, except)
    for (const { size, name } of adding) {
      if (held + size > quota) {
        const why = `this upload of ${size} bytes would take you past your quota: ${held} of ${quota} bytes are in use`
        throw new AppError('ERR_QUOTA_EXCEEDED', { message: name ? `${name}: ${why}` : why })
      }
      held += size
    }
  }

  /** The rows to 'uploaded' with their processing jobs, all in one transaction: a finished upload is never left without its job. */
  async function finish(uploads: { id: string; size: number; name?: string }[], withQuota: boolean): Promise<void> {
    const firsts = await db.transaction().execute(async (trx) => {
      const owner = uploads[0] && (await files.findOwner(trx, uploads[0].id))
      if (withQuota && limits.quotaBytes !== undefined && owner !== undefined) {
        await checkQuota(trx, owner, uploads, uploads.map((u) => u.id))
      }
      const first: typeof uploads = []
      for (const upload of uploads) {
        if (!(await files.markUploaded(trx, upload.id, upload.size))) continue
        await jobs.enqueueJob(trx, upload.id)
        first.push(upload)
      }
      return first
    })
    for (const { id, size } of firsts) {
      metrics.uploadFinished(size)
      log.info({ uploadId: id, size }, 'upload.finished')
      onFinished?.(id)
    }
  }

  return {
    async created({ id, ownerId, size, metadata, expiresAt, quotaAtFinish }) {
      const filename = filenameOf(metadata)
      const refusal = typeRefusal(limits.typeRules, filename, metadata.filetype ?? metadata.type ?? metadata.contentType ?? undefined)
      if (refusal) throw new AppError('ERR_TYPE_NOT_ALLOWED', { message: refusal })
      // A deferred length could fill MAX_UPLOAD_SIZE before it is declared, past any quota.
      if (limits.quotaBytes !== undefined && size === null && !quotaAtFinish) {
        throw new AppError('ERR_INVALID_LENGTH', { message: 'storage quotas are in force: send Upload-Length (Upload-Defer-Length is not accepted)' })
      }
      await db.transaction().execute(async (trx) => {
        if (limits.quotaBytes !== undefined) await checkQuota(trx, ownerId, [{ size: size ?? 0 }])
        await files.insertUpload(trx, {
          id,
          ownerId,
          conversationId: conversationIdOf(metadata),
          filename,
          contentType: contentTypeOf(metadata),
          declaredSize: size,
          storageBackend: storage.backend,
          storageKey: storage.keyFor(id),
          uploadMetadata: metadata,
          expiresAt,
        })
      })
      metrics.uploadCreated()
    },
    async ownerOf(id) {
      return files.findOwner(db, id)
    },
    async lengthDeclared(id, size) {
      await db.transaction().execute(async (trx) => {
        const file = await files.findFile(trx, id)
        if (file && limits.quotaBytes !== undefined) await checkQuota(trx, file.ownerId, [{ size }], [id])
        await files.setDeclaredSize(trx, id, size)
      })
    },
    async finished(id, size, options) {
      await finish([{ id, size }], options?.checkQuota === true)
    },
    async finishedTogether(uploads, options) {
      await finish(uploads, options?.checkQuota === true)
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
