/**
 * POST /files (creation, creation-with-upload, creation-defer-length) through
 * @tus/server. Our checks run first, because the library lets some requests
 * through that the spec refuses (a body with the wrong Content-Type is
 * silently dropped; a malformed Upload-Length becomes NaN), and its answer is
 * given our CORS headers before it goes out.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Server } from '@tus/server'
import { Metadata } from '@tus/utils'
import { NodeRequest } from 'srvx/node'
import { principalOf } from '../auth/authenticate.ts'
import { AppError } from '../errors.ts'
import { sizeRefusal } from '../uploads/upload-rules.ts'
import { MAX_METADATA_ENTRIES, MAX_METADATA_HEADER_BYTES } from '../uploads/upload-metadata.ts'
import type { TusContext } from './context.ts'
import { send } from './respond.ts'
import { contentLength, deferredLength, hasBody, mediaType, OFFSET_OCTET_STREAM, optionalLength } from './protocol.ts'

export type CreationHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

export function createCreationHandler(ctx: TusContext, options: { trustProxy: boolean }): CreationHandler {
  // The upload each creation request made (keyed by the library's Request object), so that one
  // the library then refuses can be removed again: see discardUnannounced.
  const createdBy = new WeakMap<object, string>()
  // Who is creating, keyed the same way: the library hands onUploadCreate its own Request object.
  const ownerOf = new WeakMap<object, string>()
  const tus = new Server({
    path: '/files',
    datastore: ctx.storage.datastore,
    locker: ctx.locker,
    maxSize: ctx.maxUploadSize,
    respectForwardedHeaders: options.trustProxy,
    lockDrainTimeout: 1000,
    namingFunction: () => randomUUID(),
    async onUploadCreate(req, upload) {
      const created = new Date(upload.creation_date ?? Date.now()).getTime()
      const ownerId = ownerOf.get(req)
      if (ownerId === undefined) throw new Error('creation without an authenticated owner')
      await ctx.hooks.created({
        id: upload.id,
        ownerId,
        size: upload.size ?? null,
        metadata: upload.metadata ?? {},
        expiresAt: new Date(created + ctx.expiryMs),
      })
      createdBy.set(req, upload.id)
      return {}
    },
    async onUploadFinish(_req, upload) {
      await ctx.hooks.finished(upload.id, upload.offset)
      return {}
    },
    async onResponseError(_req, error) {
      if (error instanceof AppError) return { status_code: error.status, body: `${error.code}: ${error.message}\n` }
      if ('status_code' in error && error.status_code < 500) return undefined
      ctx.log.error({ err: error }, 'tus.create_failed')
      return { status_code: 500, body: 'ERR_INTERNAL: internal server error\n' }
    },
  })

  return async (req, res) => {
    const { userId } = principalOf(req)
    const admitted = ctx.rateLimit?.(userId)
    if (admitted && !admitted.ok) throw new AppError('ERR_RATE_LIMITED', { headers: { 'Retry-After': String(admitted.retryAfterSeconds) } })
    validateCreation(ctx, req)
    const request = new NodeRequest({ req, res })
    ownerOf.set(request, userId)
    const response = await tus.handleWeb(request)
    const created = createdBy.get(request)
    if (created !== undefined && response.status !== 201) await discardUnannounced(ctx, created)
    // The library sets CORS, Tus-Resumable and a text Content-Type by its own
    // rules; ours are already on `res`, and its small text body is re-sent by send().
    const headers: Record<string, string> = {}
    for (const [name, value] of response.headers) {
      if (name.startsWith('access-control-') || name === 'tus-resumable' || name === 'content-type' || name === 'content-length') continue
      headers[name] = value
    }
    if (response.status === 201) ctx.log.info({ uploadId: headers.location?.split('/').pop() }, 'upload.created')
    send(res, response.status, headers, await response.text())
  }
}

/**
 * The library makes the upload before it reads a creation body, so a body
 * past Upload-Length (chunked: only seen while reading), a client gone
 * mid-body or a store failure is answered with an error after the upload
 * exists. Without "the Location header [set] to the URL of the created
 * resource" no client can ever resume or terminate it: remove it now rather
 * than list an 'uploading' file and keep its bytes until it expires.
 */
async function discardUnannounced(ctx: TusContext, id: string): Promise<void> {
  try {
    await ctx.storage.remove(id)
    await ctx.hooks.terminated(id)
    ctx.log.info({ uploadId: id }, 'upload.discarded')
  } catch (err) {
    // The expiry sweep removes it later all the same.
    ctx.log.warn({ err, uploadId: id }, 'upload.discard_failed')
  }
}

function validateCreation(ctx: TusContext, req: IncomingMessage): void {
  const { headers } = req
  if (headers['upload-concat'] !== undefined) throw new AppError('ERR_UNSUPPORTED_EXTENSION', { message: 'concatenation is not supported by this server (see Tus-Extension)' })
  // "The Client MUST send exactly one of the Upload-Length or Upload-Defer-Length headers."
  const length = optionalLength(headers)
  const deferred = deferredLength(headers)
  if ((length === undefined) === !deferred) throw new AppError('ERR_INVALID_LENGTH', { message: 'send exactly one of Upload-Length (a non-negative integer) or Upload-Defer-Length: 1' })
  // "If the length of the upload exceeds the maximum, which MAY be specified using the Tus-Max-Size header, the Server MUST respond with the 413 Request Entity Too Large status."
  if (length !== undefined && length > ctx.maxUploadSize) throw new AppError('ERR_MAX_SIZE_EXCEEDED', { message: sizeRefusal(ctx.maxUploadSize, length) })
  const metadata = headers['upload-metadata']
  if (metadata !== undefined) {
    if (typeof metadata !== 'string') throw new AppError('ERR_INVALID_METADATA')
    if (Buffer.byteLength(metadata) > MAX_METADATA_HEADER_BYTES) throw new AppError('ERR_METADATA_TOO_LARGE', { message: `Upload-Metadata is larger than ${MAX_METADATA_HEADER_BYTES} bytes` })
    let parsed: Record<string, string | null>
    try {
      parsed = Metadata.parse(metadata) ?? {}
    } catch (error) {
      throw new AppError('ERR_INVALID_METADATA', { cause: error })
    }
    const entries = Object.keys(parsed).length
    // Stored as text/jsonb, which cannot hold U+0000; no real filename or id carries one.
    if (Object.values(parsed).some((v) => v?.includes('\u0000'))) throw new AppError('ERR_INVALID_METADATA', { message: 'Upload-Metadata values must not contain NUL characters' })
    if (entries > MAX_METADATA_ENTRIES) throw new AppError('ERR_METADATA_TOO_LARGE', { message: `Upload-Metadata has ${entries} entries; at most ${MAX_METADATA_ENTRIES} are accepted` })
  }
  if (hasBody(headers)) {
    // creation-with-upload: "the Client MUST include the Content-Type: application/offset+octet-stream header"
    if (mediaType(headers['content-type']) !== OFFSET_OCTET_STREAM) {
      throw new AppError('ERR_CONTENT_TYPE', { message: 'a creation request with a body (creation-with-upload) must use Content-Type: application/offset+octet-stream' })
    }
    const bodyLength = contentLength(headers)
    if (bodyLength !== undefined && bodyLength > (length ?? ctx.maxUploadSize)) throw new AppError('ERR_BODY_EXCEEDS_LENGTH')
  }
}
