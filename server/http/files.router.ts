/** /api/files: the caller's files, one file, its bytes, its removal. */
import { pipeline } from 'node:stream/promises'
import { create as contentDisposition } from 'content-disposition'
import { type Request, type Response, Router } from 'express'
import type { Kysely } from 'kysely'
import rangeParser from 'range-parser'
import * as files from '../db/file.repository.ts'
import type { Database } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import type { Storage } from '../storage/storage.ts'
import { isUploadId } from '../tus/context.ts'
import { type UploadLocker, whileLocked } from '../locks/upload-locker.ts'
import { principalOf } from '../auth/authenticate.ts'
import { FALLBACK_CONTENT_TYPE, isMediaType } from '../uploads/upload-metadata.ts'
import { safeFilename } from '../uploads/safe-filename.ts'
import type { FileEvents } from '../pipeline/file-events.ts'
import type { DownloadLinks } from './download-link.ts'
import { toFileJson } from './file-json.ts'
import { sendFileText } from './file-text.ts'
import { MAX_WAIT_SECONDS, streamFileEvents, streamOwnerEvents, waitForSettled } from './file-watch.ts'

export type FilesDeps = { db: Kysely<Database>; storage: Storage; locker: UploadLocker; events: FileEvents; links: DownloadLinks }

const MAX_PAGE = 200

function encodeCursor(position: files.FileListPosition): string {
  return Buffer.from(`${position.createdAt}|${position.id}`).toString('base64url')
}

const CURSOR_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/

function decodeCursor(cursor: string): files.FileListPosition {
  const [createdAt = '', id = ''] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
  // The time goes to the database as text: it must be a real instant in exactly the form we gave out.
  const time = new Date(createdAt)
  const valid = CURSOR_TIME.test(createdAt) && !Number.isNaN(time.getTime()) && time.toISOString().slice(0, 23) === createdAt.slice(0, 23) && isUploadId(id)
  if (!valid) throw new AppError('ERR_BAD_REQUEST', { message: 'cursor is not one this server gave out' })
  return { createdAt, id }
}

/** The caller's file; someone else's is as absent as one that never existed (404, not 403). */
async function findOwn(deps: FilesDeps, ownerId: string, id: string): Promise<files.FileRecord | undefined> {
  if (!isUploadId(id)) return undefined
  const file = await files.findFile(deps.db, id)
  return file && file.ownerId === ownerId ? file : undefined
}

async function ownFile(deps: FilesDeps, req: Request, id: string): Promise<files.FileRecord> {
  const file = await findOwn(deps, principalOf(req).userId, id)
  if (!file) throw new AppError('ERR_FILE_NOT_FOUND')
  return file
}

/** Every stored byte of a file, then its row (which the sweep would otherwise find). Call it holding the upload lock. */
export async function removeFile(deps: Pick<FilesDeps, 'db' | 'storage'>, id: string): Promise<void> {
  await deps.storage.remove(id)
  await files.deleteFile(deps.db, id)
}

/** Streams the caller's finished file with Range support; also serves tusd-style GET /files/:id. */
export async function sendContent(deps: FilesDeps, req: Request, res: Response, id: string): Promise<void> {
  await sendBytes(deps, req, res, await ownFile(deps, req, id))
}

/**
 * GET /api/files/:id/content?expires=&signature= (a link from POST /api/files/:id/download-url): the file
 * without a credential header. A request without those parameters goes on to the authenticated route.
 */
export function signedContent(deps: FilesDeps): (req: Request, res: Response, next: () => void) => Promise<void> {
  return async (req, res, next) => {
    if (!deps.links.carries(req.query)) return next()
    const id = String(req.params.id)
    const file = isUploadId(id) ? await files.findFile(deps.db, id) : undefined
    await sendBytes(deps, req, res, deps.links.check(file, req.query))
  }
}

async function sendBytes(deps: FilesDeps, req: Request, res: Response, file: files.FileRecord): Promise<void> {
  const id = file.id
  if (file.status === 'uploading' || file.size === null) throw new AppError('ERR_UPLOAD_INCOMPLETE')
  const size = file.size
  let range: { start: number; end: number } | undefined
  const header = req.headers.range
  if (header && size > 0) {
    const parsed = rangeParser(size, header, { combine: true })
    if (parsed === -1) {
      res.setHeader('Content-Range', `bytes */${size}`)
      throw new AppError('ERR_INVALID_RANGE')
    }
    // One range is served as 206; several (or a malformed header, -2) get the whole file, as RFC 9110 allows.
    if (Array.isArray(parsed) && parsed.type === 'bytes' && parsed.length === 1 && parsed[0]) range = parsed[0]
  }
  res.setHeader('Content-Type', isMediaType(file.contentType) ? file.contentType : FALLBACK_CONTENT_TYPE)
  res.setHeader('Content-Disposition', contentDisposition(safeFilename(file.filename), { type: 'attachment' }))
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('Accept-Ranges', 'bytes')
  res.setHeader('ETag', `"${file.id}-${size}"`)
  res.setHeader('Cache-Control', 'private, no-cache')
  if (file.uploadedAt) res.setHeader('Last-Modified', file.uploadedAt.toUTCString())
  if (range) {
    res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
    res.setHeader('Content-Length', String(range.end - range.start + 1))
  } else {
    res.setHeader('Content-Length', String(size))
  }
  if (req.method === 'HEAD' || size === 0) {
    res.end()
    return
  }
  const body = await deps.storage.read(id, range)
  await pipeline(body, res)
}

export function filesRouter(deps: FilesDeps): Router {
  const router = Router()

  router.get('/', async (req, res) => {
    const limitParam = req.query.limit
    const limit = limitParam === undefined ? 50 : Number(limitParam)
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new AppError('ERR_BAD_REQUEST', { message: `limit must be an integer from 1 to ${MAX_PAGE}` })
    const after = typeof req.query.cursor === 'string' ? decodeCursor(req.query.cursor) : undefined
    const conversation = req.query.conversationId
    if (conversation !== undefined && (typeof conversation !== 'string' || conversation === '' || conversation.length > 200)) {
      throw new AppError('ERR_BAD_REQUEST', { message: 'conversationId must be one value of 1 to 200 characters' })
    }
    const page = await files.listFiles(deps.db, { ownerId: principalOf(req).userId, conversationId: conversation, limit, after })
    res.json({ files: page.files.map(toFileJson), nextCursor: page.next ? encodeCursor(page.next) : null })
  })

  // Every change to the caller's files, for a live list (the bundled page uses it).
  router.get('/events', async (req, res) => {
    const ownerId = principalOf(req).userId
    await streamOwnerEvents(deps.events, res, (id) => findOwn(deps, ownerId, id))
  })

  // ?wait=<seconds>: answer once the file is ready or failed (or the time is up) instead of being polled.
  router.get('/:id', async (req, res) => {
    const file = await ownFile(deps, req, req.params.id)
    const wait = req.query.wait
    if (wait === undefined) {
      res.json(toFileJson(file))
      return
    }
    const seconds = typeof wait === 'string' && /^\d+$/.test(wait) ? Number(wait) : Number.NaN
    if (!(seconds >= 0 && seconds <= MAX_WAIT_SECONDS)) throw new AppError('ERR_BAD_REQUEST', { message: `wait must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}` })
    const gone = new AbortController()
    res.once('close', () => gone.abort())
    const latest = await waitForSettled(deps.events, file.id, () => findOwn(deps, file.ownerId, file.id), file, seconds * 1000, gone.signal)
    if (!latest) throw new AppError('ERR_FILE_NOT_FOUND')
    if (!res.writableEnded) res.json(toFileJson(latest))
  })

  router.get('/:id/events', async (req, res) => {
    const file = await ownFile(deps, req, req.params.id)
    await streamFileEvents(deps.events, res, () => findOwn(deps, file.ownerId, file.id), file)
  })

  router.get('/:id/text', async (req, res) => {
    await sendFileText(deps.db, await ownFile(deps, req, req.params.id), req, res)
  })

  // A link that needs no credential header, for a browser to save a large file to disk (see download-link.ts).
  router.post('/:id/download-url', async (req, res) => {
    const file = await ownFile(deps, req, req.params.id)
    if (file.status === 'uploading' || file.size === null) throw new AppError('ERR_UPLOAD_INCOMPLETE')
    const link = deps.links.sign(file)
    res.setHeader('Cache-Control', 'no-store')
    res.status(201).json({ url: link.path, expiresAt: link.expiresAt.toISOString() })
  })

  router.get('/:id/content', async (req, res) => {
    await sendContent(deps, req, res, req.params.id)
  })

  router.delete('/:id', async (req, res) => {
    const file = await ownFile(deps, req, req.params.id)
    // An upload still running is asked to stop first; its bytes go with the rest.
    await whileLocked(deps.locker, file.id, () => removeFile(deps, file.id))
    res.status(204).end()
  })

  return router
}
