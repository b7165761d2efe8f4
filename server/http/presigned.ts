/**
 * Presigned direct-to-S3 uploads: the bytes never pass through this server.
 *
 *   1. POST /api/files/upload-url { filename, contentType, size, conversationId? }
 *      -> 201 { fileId, uploadUrl, method: 'PUT', headers, expiresAt, file }
 *      The row starts 'uploading' under the same rules as a tus creation (type,
 *      size, quota). The URL signs Content-Length and Content-Type, so the store
 *      itself refuses a body of another size or type.
 *   2. The client PUTs the bytes to uploadUrl.
 *   3. POST /api/files/confirm { fileId } -> 200 with the record: the server asks
 *      the store for the object, checks its size, and finishes the upload like a
 *      tus one ('uploaded' + its processing job). Confirming again is harmless.
 *
 * An upload never confirmed expires PRESIGN_EXPIRY_SECONDS + CONFIRM_GRACE_MS
 * after it was asked for, and the sweep removes it like an abandoned tus upload.
 */
import { randomUUID } from 'node:crypto'
import express, { type Request, Router } from 'express'
import type { Kysely } from 'kysely'
import { z } from 'zod'
import { principalOf } from '../auth/authenticate.ts'
import * as files from '../db/file.repository.ts'
import type { Database } from '../db/schema.ts'
import { AppError, ERRORS } from '../errors.ts'
import type { Storage } from '../storage/storage.ts'
import { type UploadLocker, whileLocked } from '../locks/upload-locker.ts'
import { isUploadId, type UploadHooks } from '../tus/context.ts'
import { contentTypeOf, isMediaType, type UploadMetadata } from '../uploads/upload-metadata.ts'
import { formatBytes, sizeRefusal } from '../uploads/upload-rules.ts'
import { toFileJson } from './file-json.ts'

export type PresignDeps = { db: Kysely<Database>; storage: Storage; hooks: UploadHooks; locker: UploadLocker; maxUploadSize: number; presignExpirySeconds: number }

/** S3's limit for one PUT; larger files go through tus (S3 multipart behind it). */
export const SINGLE_PUT_MAX = 5 * 1024 ** 3
/** A PUT that started just before its URL expired may finish after: it can still be confirmed for this long. */
const CONFIRM_GRACE_MS = 15 * 60_000

/** What a presigned upload (single PUT or multipart) is asked for with. */
export const uploadUrlBody = z.strictObject({
  filename: z.string().trim().min(1, { error: 'filename must not be empty' }).max(1024),
  contentType: z.string().refine(isMediaType, { error: 'contentType must be a media type such as text/csv' }).optional(),
  size: z.number({ error: 'size must be a number of bytes' }).int().nonnegative(),
  conversationId: z.string().min(1).max(200).optional(),
})
const confirmBody = z.strictObject({ fileId: z.uuid({ error: 'fileId must be the id upload-url gave' }) })

export function parseBody<T>(schema: z.ZodType<T>, req: Request): T {
  const parsed = schema.safeParse(req.body)
  if (!parsed.success) throw new AppError('ERR_BAD_REQUEST', { message: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') })
  return parsed.data
}

/** One kind of presigned upload: its marker in uploadMetadata, and what its routes say of another kind and of an expired one. */
export type PresignedKind = { via: string; otherKind: string; gone: string }

const SINGLE_PUT: PresignedKind = {
  via: 'presigned',
  otherKind: ERRORS.ERR_NOT_PRESIGNED.message,
  gone: 'the upload URL expired unconfirmed and the upload was removed; ask for a new one',
}

/**
 * Records a new presigned upload ('uploading', under the same rules as a tus creation), then `start`s it with the
 * store; when the store fails, the row goes too. Answers the id and the record.
 */
export async function startPresigned<T>(
  deps: Pick<PresignDeps, 'db' | 'hooks'>,
  req: Request,
  kind: PresignedKind,
  body: z.infer<typeof uploadUrlBody>,
  expiresAt: Date,
  start: (id: string, headers: { contentType: string; filename: string }) => Promise<T>,
): Promise<{ id: string; file: files.FileRecord; started: T }> {
  const id = randomUUID()
  const metadata: UploadMetadata = { filename: body.filename, filetype: body.contentType ?? null, via: kind.via, ...(body.conversationId ? { conversationId: body.conversationId } : {}) }
  await deps.hooks.created({ id, ownerId: principalOf(req).userId, size: body.size, metadata, expiresAt })
  let started: T
  try {
    started = await start(id, { contentType: contentTypeOf(metadata), filename: body.filename })
  } catch (error) {
    await files.deleteFile(deps.db, id)
    throw error
  }
  return { id, file: (await files.findFile(deps.db, id)) as files.FileRecord, started }
}

/** The caller's upload of this kind: 404 for anyone else's (or none), 409 for another kind, 410 once expired and swept. */
export async function ownPresigned(db: Kysely<Database>, req: Request, id: string, kind: PresignedKind): Promise<files.FileRecord> {
  const file = isUploadId(id) ? await files.findFile(db, id) : undefined
  if (!file || file.ownerId !== principalOf(req).userId) throw new AppError('ERR_FILE_NOT_FOUND')
  if (file.uploadMetadata?.via !== kind.via) throw new AppError('ERR_NOT_PRESIGNED', { message: kind.otherKind })
  if (file.status === 'failed' && file.error?.code === 'upload_expired') throw new AppError('ERR_UPLOAD_GONE', { message: kind.gone })
  return file
}

/**
 * Finishes a presigned upload under its upload lock, which the expiry sweep takes too: the sweep never removes
 * the bytes of an upload finished meanwhile, and an upload past its expiry is not finished (410, as tus answers).
 * `finish` runs only while the row still says 'uploading'. Answers the record as it is then (finishing twice is harmless).
 */
export async function finishPresigned(
  deps: Pick<PresignDeps, 'db' | 'locker'>,
  kind: PresignedKind,
  file: files.FileRecord,
  finish: (file: files.FileRecord) => Promise<void>,
): Promise<files.FileRecord> {
  if (file.status === 'uploading') {
    await whileLocked(deps.locker, file.id, async () => {
      const current = await files.findFile(deps.db, file.id)
      if (current?.status !== 'uploading') return
      if (current.expiresAt && current.expiresAt.getTime() <= Date.now()) throw new AppError('ERR_UPLOAD_GONE', { message: 'the upload expired before it was finished; start a new one' })
      await finish(current)
    })
  }
  const latest = await files.findFile(deps.db, file.id)
  if (!latest) throw new AppError('ERR_FILE_NOT_FOUND')
  if (latest.status === 'failed' && latest.error?.code === 'upload_expired') throw new AppError('ERR_UPLOAD_GONE', { message: kind.gone })
  return latest
}

export function presignedRouter(deps: PresignDeps): Router {
  const router = Router()
  const json = express.json({ limit: '16kb', strict: true })

  router.post('/upload-url', json, async (req, res) => {
    const presign = deps.storage.presignPut?.bind(deps.storage)
    if (!presign) throw new AppError('ERR_PRESIGN_UNAVAILABLE')
    const body = parseBody(uploadUrlBody, req)
    const tooLarge = sizeRefusal(Math.min(deps.maxUploadSize, SINGLE_PUT_MAX), body.size)
    if (tooLarge) {
      const hint = body.size <= deps.maxUploadSize ? ` (one presigned PUT holds at most ${formatBytes(SINGLE_PUT_MAX)}; upload larger files with presigned multipart (POST /api/files/multipart) or tus)` : ''
      throw new AppError('ERR_MAX_SIZE_EXCEEDED', { message: tooLarge + hint })
    }
    const urlExpiresAt = new Date(Date.now() + deps.presignExpirySeconds * 1000)
    const { id, file, started } = await startPresigned(deps, req, SINGLE_PUT, body, new Date(urlExpiresAt.getTime() + CONFIRM_GRACE_MS), async (id, headers) => ({
      contentType: headers.contentType,
      uploadUrl: await presign(id, { size: body.size, ...headers, expiresInSeconds: deps.presignExpirySeconds }),
    }))
    const { uploadUrl, contentType } = started
    res.status(201).json({
      fileId: id,
      uploadUrl,
      method: 'PUT',
      // Sent as signed: the store refuses the PUT without exactly these (and a Content-Length of `size`).
      headers: { 'Content-Type': contentType },
      expiresAt: urlExpiresAt.toISOString(),
      confirmUrl: '/api/files/confirm',
      file: toFileJson(file),
    })
  })

  router.post('/confirm', json, async (req, res) => {
    const { fileId } = parseBody(confirmBody, req)
    const file = await ownPresigned(deps.db, req, fileId, SINGLE_PUT)
    const latest = await finishPresigned(deps, SINGLE_PUT, file, async (current) => {
      const stored = await deps.storage.statObject(fileId)
      if (!stored) throw new AppError('ERR_UPLOAD_INCOMPLETE', { message: 'nothing is stored at the upload URL yet: PUT the bytes there, then confirm' })
      if (current.size !== null && stored.size !== current.size) {
        throw new AppError('ERR_UPLOAD_INCOMPLETE', { message: `the stored object has ${stored.size} bytes, not the ${current.size} declared: PUT the whole file again` })
      }
      await deps.hooks.finished(fileId, stored.size)
    })
    res.json(toFileJson(latest))
  })

  return router
}
