/**
 * Presigned S3 multipart uploads, for files of any size (past one PUT's 5 GiB)
 * whose bytes never pass through this server, and which resume part by part.
 * The client (such as @uppy/aws-s3) keeps the S3 upload id, as with Companion.
 *
 *   POST   /api/files/multipart { filename, contentType?, size, conversationId? }
 *          -> 201 { fileId, uploadId, partSize, expiresAt, file }
 *   GET    /api/files/multipart/:fileId/parts/:partNumber?uploadId=  -> { url, method: 'PUT', expiresAt }
 *   GET    /api/files/multipart/:fileId/parts?uploadId=              -> { parts: [{ partNumber, size, etag }] }
 *   POST   /api/files/multipart/:fileId/complete { uploadId, parts? } -> 200 the file record
 *   DELETE /api/files/multipart/:fileId                               -> 204, every part and the row gone
 *
 * The row starts 'uploading' under the tus rules (type, size, quota) and
 * expires like a tus upload (UPLOAD_EXPIRY_SECONDS); the sweep aborts what is
 * left. Complete checks with the store, not the client: the parts it lists
 * must hold exactly the declared size, every part but the last at least 5 MiB,
 * and any ETags the client sends must be the stored ones. Completing twice is harmless.
 */
import express, { type Request, Router } from 'express'
import type { Kysely } from 'kysely'
import { z } from 'zod'
import * as files from '../db/file.repository.ts'
import type { Database } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import type { PresignedMultipart, Storage, StoredPart } from '../storage/storage.ts'
import { type UploadLocker, whileLocked } from '../locks/upload-locker.ts'
import type { UploadHooks } from '../tus/context.ts'
import { formatBytes, sizeRefusal } from '../uploads/upload-rules.ts'
import { toFileJson } from './file-json.ts'
import { finishPresigned, ownPresigned, parseBody, type PresignedKind, startPresigned, uploadUrlBody } from './presigned.ts'
import { removeFile } from './files.router.ts'

export type MultipartDeps = { db: Kysely<Database>; storage: Storage; hooks: UploadHooks; locker: UploadLocker; maxUploadSize: number; presignExpirySeconds: number; uploadExpiryMs: number }

const KIND: PresignedKind = {
  via: 'presigned-multipart',
  otherKind: 'this file did not come by a presigned multipart upload',
  gone: 'the multipart upload expired unfinished and was removed; start a new one',
}
const MiB = 1024 * 1024
/** S3's rules: parts 1 to 10,000, every one but the last at least 5 MiB. */
export const MULTIPART = { maxParts: 10_000, minPartSize: 5 * MiB } as const

const uploadId = z.string({ error: 'uploadId must be the one POST /api/files/multipart gave' }).regex(/^[\x21-\x7e]{1,1024}$/, { error: 'uploadId must be the one POST /api/files/multipart gave' })
const completeBody = z.strictObject({
  uploadId,
  parts: z.array(z.strictObject({ partNumber: z.number().int().min(1).max(MULTIPART.maxParts), etag: z.string().min(1).max(256) })).max(MULTIPART.maxParts).optional(),
})

/** A part size that fits `size` in 10,000 parts, at least 8 MiB, in whole MiB. */
export function partSizeFor(size: number): number {
  return Math.max(8 * MiB, Math.ceil(size / MULTIPART.maxParts / MiB) * MiB)
}

const unquoted = (etag: string) => etag.replace(/^"|"$/g, '')

export function presignedMultipartRouter(deps: MultipartDeps): Router {
  const router = Router()
  const json = express.json({ limit: '1mb', strict: true })

  function multipart(): PresignedMultipart {
    if (!deps.storage.presignedMultipart) throw new AppError('ERR_PRESIGN_UNAVAILABLE')
    return deps.storage.presignedMultipart
  }

  const ownUpload = (req: Request) => ownPresigned(deps.db, req, String(req.params.fileId), KIND)

  function stillUploading(file: files.FileRecord): void {
    if (file.status !== 'uploading') throw new AppError('ERR_UPLOAD_COMPLETE', { message: 'this multipart upload is already complete: its file is at /api/files/:id' })
  }

  function uploadIdOf(req: Request): string {
    const parsed = uploadId.safeParse(req.query.uploadId)
    if (!parsed.success) throw new AppError('ERR_BAD_REQUEST', { message: 'uploadId: send the uploadId POST /api/files/multipart gave, as ?uploadId=' })
    return parsed.data
  }

  async function storedParts(id: string, upload: string): Promise<StoredPart[]> {
    const parts = await multipart().listParts(id, upload)
    if (!parts) throw new AppError('ERR_UPLOAD_NOT_FOUND', { message: 'no multipart upload with this uploadId for this file: start a new one with POST /api/files/multipart' })
    return parts
  }

  router.post('/multipart', json, async (req, res) => {
    const store = multipart()
    const body = parseBody(uploadUrlBody, req)
    if (body.size === 0) throw new AppError('ERR_BAD_REQUEST', { message: 'size: an empty file has no parts: send it with POST /api/files/upload-url, a form post or tus' })
    const tooLarge = sizeRefusal(deps.maxUploadSize, body.size)
    if (tooLarge) throw new AppError('ERR_MAX_SIZE_EXCEEDED', { message: tooLarge })
    const { id, file, started: upload } = await startPresigned(deps, req, KIND, body, new Date(Date.now() + deps.uploadExpiryMs), (id, headers) => store.create(id, headers))
    res.status(201).json({ fileId: id, uploadId: upload, partSize: partSizeFor(body.size), expiresAt: file.expiresAt?.toISOString() ?? null, file: toFileJson(file) })
  })

  router.get('/multipart/:fileId/parts/:partNumber', async (req, res) => {
    const file = await ownUpload(req)
    stillUploading(file)
    const partNumber = /^\d{1,5}$/.test(req.params.partNumber) ? Number(req.params.partNumber) : Number.NaN
    if (!(partNumber >= 1 && partNumber <= MULTIPART.maxParts)) throw new AppError('ERR_BAD_REQUEST', { message: `partNumber must be a whole number from 1 to ${MULTIPART.maxParts}` })
    const url = await multipart().presignPart(file.id, uploadIdOf(req), partNumber, deps.presignExpirySeconds)
    res.setHeader('Cache-Control', 'no-store')
    res.json({ url, method: 'PUT', expiresAt: new Date(Date.now() + deps.presignExpirySeconds * 1000).toISOString() })
  })

  router.get('/multipart/:fileId/parts', async (req, res) => {
    const file = await ownUpload(req)
    stillUploading(file)
    const parts = await storedParts(file.id, uploadIdOf(req))
    res.setHeader('Cache-Control', 'no-store')
    res.json({ parts })
  })

  router.post('/multipart/:fileId/complete', json, async (req, res) => {
    const file = await ownUpload(req)
    const body = parseBody(completeBody, req)
    // Under the upload lock: a second complete waits and then finds the file finished; the sweep cannot interleave.
    const latest = await finishPresigned(deps, KIND, file, async (current) => {
      const parts = await storedParts(current.id, body.uploadId)
      checkParts(parts, current.size ?? 0, body.parts)
      await multipart().complete(current.id, body.uploadId, parts)
      const stored = await deps.storage.statObject(current.id)
      if (!stored || stored.size !== current.size) throw new Error(`multipart upload ${current.id} completed with ${stored?.size} bytes, not ${current.size}`)
      await deps.hooks.finished(current.id, stored.size)
    })
    res.json(toFileJson(latest))
  })

  router.delete('/multipart/:fileId', async (req, res) => {
    const file = await ownUpload(req)
    stillUploading(file)
    // Under the upload lock, as complete and the sweep: an abort never cuts a complete in half.
    await whileLocked(deps.locker, file.id, async () => {
      stillUploading((await files.findFile(deps.db, file.id)) ?? file)
      await removeFile(deps, file.id)
    })
    res.status(204).end()
  })

  return router
}

/** Refuses (409) parts that S3 would join into something else than the declared file. */
export function checkParts(parts: StoredPart[], size: number, claimed?: { partNumber: number; etag: string }[]): void {
  const incomplete = (message: string) => new AppError('ERR_UPLOAD_INCOMPLETE', { message })
  const total = parts.reduce((sum, p) => sum + p.size, 0)
  if (total !== size) {
    throw incomplete(`the stored parts hold ${total} bytes, not the ${size} declared: PUT the missing parts (GET .../parts lists what is stored), then complete`)
  }
  const small = parts.slice(0, -1).find((p) => p.size < MULTIPART.minPartSize)
  if (small) throw incomplete(`part ${small.partNumber} has ${small.size} bytes: every part but the last needs at least ${formatBytes(MULTIPART.minPartSize)}`)
  if (claimed) {
    const seen = new Set<number>()
    const twice = claimed.find((c) => seen.size === seen.add(c.partNumber).size)
    if (twice) throw new AppError('ERR_BAD_REQUEST', { message: `parts: part ${twice.partNumber} is named twice` })
    const stored = new Map(parts.map((p) => [p.partNumber, unquoted(p.etag)]))
    const differs = claimed.find((c) => stored.get(c.partNumber) !== unquoted(c.etag))
    if (differs) throw incomplete(`part ${differs.partNumber} is not stored with the ETag sent: PUT it again, or complete without "parts"`)
    if (claimed.length !== parts.length) throw incomplete(`${parts.length} parts are stored and ${claimed.length} were named: name them all, or complete without "parts"`)
  }
}
