/**
 * POST /api/files with multipart/form-data: one or more file parts plus text
 * fields (`conversationId`, and free-form ones such as `intent` or `message`,
 * kept in each file's uploadMetadata), as curl -F, HTML forms and simple SDKs
 * send them.
 *
 * Each file part streams straight into storage (S3 multipart or a file on
 * disk) as it arrives; memory stays flat whatever the size. Each file gets a
 * row ('uploading', with an expiry, so a crash mid-request is swept like an
 * abandoned tus upload) before its first byte is stored, and ends like a tus
 * upload: 'uploaded' with its processing job, in one transaction.
 *
 * All or nothing: when any part fails (over MAX_UPLOAD_SIZE, a refused type,
 * a malformed or truncated body, the client leaving, the quota), every file of
 * the request is removed, bytes and rows, and the answer says why.
 */
import { randomUUID } from 'node:crypto'
import { type Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import busboy from 'busboy'
import type { Request, Response } from 'express'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import { principalOf } from '../auth/authenticate.ts'
import * as files from '../db/file.repository.ts'
import type { Database } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import type { Storage } from '../storage/storage.ts'
import type { UploadHooks } from '../tus/context.ts'
import { contentTypeOf, conversationIdOf, type UploadMetadata } from '../uploads/upload-metadata.ts'
import { limitRefusal } from '../uploads/upload-rules.ts'
import { toFileJson } from './file-json.ts'
import { removeFile } from './files.router.ts'

export type FormDeps = { db: Kysely<Database>; storage: Storage; hooks: UploadHooks; log: Logger; maxUploadSize: number; uploadExpiryMs: number }

/** Per request. Fields and files together stay under the 32 metadata entries a tus upload may carry. */
export const FORM_LIMITS = { files: 20, fields: 30, fieldSize: 64 * 1024, parts: 50, headerPairs: 100 } as const
const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/

type Part = { id: string; filename: string; contentType: string | undefined; size: number; stream: Readable; stored: Promise<void> }

const badRequest = (message: string) => new AppError('ERR_BAD_REQUEST', { message })
/** Several files in one request: the refusal says which one. */
const naming = (filename: string, error: AppError) => new AppError(error.code, { message: `${filename}: ${error.message}`, headers: error.headers })

export async function receiveForm(deps: FormDeps, req: Request, res: Response): Promise<void> {
  // Without parameters it is still a form, missing its boundary: busboy refuses it below with 400.
  if (!/^multipart\/form-data\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    throw new AppError('ERR_CONTENT_TYPE', { message: 'POST /api/files takes multipart/form-data (curl -F file=@report.csv); tus uploads go to /files' })
  }
  let parser: busboy.Busboy
  try {
    parser = busboy({ headers: req.headers, limits: { ...FORM_LIMITS, fileSize: deps.maxUploadSize }, defParamCharset: 'utf8' })
  } catch (error) {
    throw badRequest(`malformed multipart/form-data: ${(error as Error).message}`)
  }
  const ownerId = principalOf(req).userId
  const parts: Part[] = []
  const fields: Record<string, string> = {}
  let failure: AppError | undefined
  let settle!: () => void
  const parsed = new Promise<void>((resolve) => (settle = resolve))

  const fail = (error: unknown) => {
    if (failure) return
    failure = error instanceof AppError ? error : badRequest(`malformed multipart/form-data: ${(error as Error).message}`)
    req.unpipe(parser)
    for (const part of parts) part.stream.destroy()
    settle()
  }

  parser.on('field', (name, value, info) => {
    if (info.nameTruncated || info.valueTruncated) return fail(badRequest(`the field ${name.slice(0, 64)} is longer than ${FORM_LIMITS.fieldSize} bytes`))
    if (!FIELD_NAME.test(name)) return fail(badRequest('field names are 1 to 64 letters, digits, "_", "." or "-"'))
    if (value.includes('\u0000')) return fail(badRequest(`the field ${name} contains a NUL character`))
    // busboy hands a part with filename="" over as a field; a typed one was meant as a file.
    if (info.mimeType !== 'text/plain') return fail(badRequest(`the part ${name} has a type (${info.mimeType}) but no filename: send filename="…" in its Content-Disposition`))
    fields[name] = value
  })
  parser.on('file', (_name, stream, info) => {
    const filename = info.filename?.trim() ?? ''
    if (failure) return void stream.resume()
    if (!filename) {
      stream.resume()
      return fail(badRequest('a file part has an empty filename: send filename="…" in its Content-Disposition'))
    }
    // The failure is reported once, by fail(); a part stream's own error adds nothing.
    stream.on('error', () => {})
    // curl and many SDKs say application/octet-stream for everything, and busboy says text/plain for a part
    // without a Content-Type: then the extension decides, as for tus (a .txt keeps text/plain either way).
    const vague = !info.mimeType || info.mimeType === 'application/octet-stream' || (info.mimeType === 'text/plain' && /\.[^.]+$/.test(filename))
    const contentType = vague ? undefined : info.mimeType
    const part: Part = { id: randomUUID(), filename, contentType, size: 0, stream, stored: Promise.resolve() }
    parts.push(part)
    stream.on('limit', () => {
      fail(new AppError('ERR_MAX_SIZE_EXCEEDED', { message: `${filename}: ${limitRefusal(deps.maxUploadSize)}` }))
    })
    part.stored = storePart(deps, ownerId, part).catch((error: unknown) => {
      fail(error instanceof AppError && !failure ? naming(filename, error) : error)
    })
  })
  parser.on('filesLimit', () => fail(badRequest(`at most ${FORM_LIMITS.files} files per request`)))
  parser.on('fieldsLimit', () => fail(badRequest(`at most ${FORM_LIMITS.fields} text fields per request`)))
  parser.on('partsLimit', () => fail(badRequest(`at most ${FORM_LIMITS.parts} parts per request`)))
  parser.on('error', fail)
  parser.on('close', settle)
  // A client that leaves mid-body never ends the stream: busboy would wait forever.
  req.on('close', () => {
    if (!req.complete) fail(badRequest('the client left before the form ended'))
  })
  req.pipe(parser)
  await parsed

  await Promise.all(parts.map((p) => p.stored))
  if (!failure && parts.length === 0) failure = badRequest('the form has no file: send at least one file part (curl -F file=@report.csv)')
  if (!failure) {
    try {
      await finishParts(deps, parts, fields)
    } catch (error) {
      failure = error instanceof AppError ? error : undefined
      if (!failure) {
        await rollBack(deps, parts)
        throw error
      }
    }
  }
  if (failure) {
    await rollBack(deps, parts)
    // The rest of a refused body is not read: the connection goes with the answer.
    if (!req.complete) res.setHeader('Connection', 'close')
    throw failure
  }
  const records = await Promise.all(parts.map((p) => files.findFile(deps.db, p.id)))
  res.status(201).json({ files: records.filter((r) => r !== undefined).map(toFileJson) })
}

/** Records the part ('uploading') under the same rules as a tus creation, then streams its bytes to storage. */
async function storePart(deps: FormDeps, ownerId: string, part: Part): Promise<void> {
  const metadata: UploadMetadata = { filename: part.filename, ...(part.contentType ? { filetype: part.contentType } : {}) }
  await deps.hooks.created({ id: part.id, ownerId, size: null, metadata, expiresAt: new Date(Date.now() + deps.uploadExpiryMs), quotaAtFinish: true })
  // Counted on the way through; a destroyed part stream (fail) errors the counter, and so the store's write.
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      part.size += chunk.length
      done(null, chunk)
    },
  })
  // The request failed while the row was written: a destroyed stream would never end the pipe below.
  if (part.stream.destroyed) throw new AppError('ERR_BAD_REQUEST', { message: 'the form was abandoned' })
  pipeline(part.stream, counter).catch(() => {})
  await deps.storage.putObject(part.id, counter, { contentType: contentTypeOf(metadata), filename: part.filename })
}

/**
 * The text fields (which may have come after the files) go on every file; then all are finished in one transaction,
 * the quota checked file by file: either every file is 'uploaded' with its job, or none is.
 */
async function finishParts(deps: FormDeps, parts: Part[], fields: Record<string, string>): Promise<void> {
  for (const part of parts) {
    const uploadMetadata: UploadMetadata = { ...fields, filename: part.filename, ...(part.contentType ? { filetype: part.contentType } : {}) }
    await files.setUploadFields(deps.db, part.id, { conversationId: conversationIdOf(uploadMetadata), uploadMetadata })
  }
  await deps.hooks.finishedTogether(parts.map((p) => ({ id: p.id, size: p.size, name: p.filename })), { checkQuota: true })
}

async function rollBack(deps: FormDeps, parts: Part[]): Promise<void> {
  for (const part of parts) {
    try {
      await removeFile(deps, part.id)
    } catch (err) {
      // The row keeps its expiry: the sweep removes what is left.
      deps.log.warn({ err, uploadId: part.id }, 'form.rollback_failed')
    }
  }
}
