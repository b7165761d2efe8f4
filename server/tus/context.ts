/** What the tus handlers share: the store, the locks, the limits and the hooks into the file records. */
import type { Upload } from '@tus/utils'
import { ERRORS as TUS_ERRORS } from '@tus/utils'
import type { Logger } from 'pino'
import { AppError } from '../errors.ts'
import type { Storage } from '../storage/storage.ts'
import type { UploadLocker } from '../locks/upload-locker.ts'
import type { BodyGate } from './body-gate.ts'
import type { UploadMetadata } from '../uploads/upload-metadata.ts'
import type { Authenticate } from '../auth/authenticate.ts'
import type { RateLimiter } from '../uploads/rate-limit.ts'

/** How the tus layer tells the rest of the server about an upload's life. Implemented in uploads/. */
export interface UploadHooks {
  /**
   * Before the store creates anything: record the upload ('uploading') for its owner. Throwing refuses the creation.
   * `quotaAtFinish`: the size comes only with the last byte (a form post); the quota is checked then, by `finished`.
   */
  created(upload: { id: string; ownerId: string; size: number | null; metadata: UploadMetadata; expiresAt: Date; quotaAtFinish?: boolean }): Promise<void>
  /** Who created the upload; undefined when there is no record of it. */
  ownerOf(id: string): Promise<string | undefined>
  /** The deferred Upload-Length became known. */
  lengthDeclared(id: string, size: number): Promise<void>
  /**
   * The last byte landed. Must be idempotent: retried PATCHes, HEADs and the start-up reconcile call it again.
   * `checkQuota`: the size was not known before (a form post), so the owner's quota is checked now, in the same transaction.
   */
  finished(id: string, size: number, options?: { checkQuota?: boolean }): Promise<void>
  /**
   * Several uploads of one owner (a form post's files) finished in one transaction: all of them with their jobs, or
   * none. The quota is checked file by file in the order given; a refusal names the file (`name`) that crossed it.
   */
  finishedTogether(uploads: { id: string; size: number; name: string }[], options?: { checkQuota?: boolean }): Promise<void>
  /** The upload was terminated (tus DELETE): forget the record. */
  terminated(id: string): Promise<void>
  /** Whether the upload existed and expired (410 Gone), as opposed to never existing (404). */
  expired(id: string): Promise<boolean>
}

export type TusContext = {
  /** Who is calling (see auth/authenticate.ts); every tus request but OPTIONS goes through it. */
  authenticate: Authenticate
  /** Upload creations per user (absent: no limit). */
  rateLimit?: RateLimiter
  storage: Storage
  locker: UploadLocker
  hooks: UploadHooks
  maxUploadSize: number
  expiryMs: number
  /** Takes turns among the request bodies being read (see body-gate.ts). */
  bodyGate: BodyGate
  log: Logger
}

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id)
}

export function expiresAt(ctx: TusContext, upload: Upload): number {
  return new Date(upload.creation_date ?? Date.now()).getTime() + ctx.expiryMs
}

export function isFinished(upload: Upload): boolean {
  return upload.size !== undefined && upload.offset === upload.size
}

/**
 * The upload as the store has it, or the right 4xx: "If a Client does attempt
 * to resume an upload which has since been removed by the Server, the Server
 * SHOULD respond with the 404 Not Found or 410 Gone status. The latter one
 * SHOULD be used if the Server is keeping track of expired uploads."
 * Only "not there" becomes 404/410; any other store error stays an error, so a
 * storage outage never tells a client to forget its upload.
 */
export async function loadUpload(ctx: TusContext, id: string): Promise<Upload> {
  let upload: Upload
  try {
    upload = await ctx.storage.datastore.getUpload(id)
  } catch (error) {
    if (error === TUS_ERRORS.FILE_NOT_FOUND || error === TUS_ERRORS.FILE_NO_LONGER_EXISTS) {
      throw new AppError((await ctx.hooks.expired(id)) ? 'ERR_UPLOAD_GONE' : 'ERR_UPLOAD_NOT_FOUND')
    }
    throw error
  }
  if (!isFinished(upload) && Date.now() > expiresAt(ctx, upload)) throw new AppError('ERR_UPLOAD_GONE')
  return upload
}
