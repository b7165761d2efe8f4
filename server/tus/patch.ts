/** PATCH /files/:id: append bytes at the offset the client names (tus core). */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AppError } from '../errors.ts'
import { limitRefusal, sizeRefusal } from '../uploads/upload-rules.ts'
import { expiresAt, loadUpload, type TusContext } from './context.ts'
import { contentLength, httpDate, mediaType, OFFSET_OCTET_STREAM, optionalLength, requireOffset } from './protocol.ts'
import { send } from './respond.ts'
import { writeBody } from './write-body.ts'

export async function handlePatch(ctx: TusContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  // "All PATCH requests MUST use Content-Type: application/offset+octet-stream, otherwise the server SHOULD return a 415 Unsupported Media Type status."
  if (mediaType(req.headers['content-type']) !== OFFSET_OCTET_STREAM) throw new AppError('ERR_CONTENT_TYPE')
  // "The Upload-Offset header's value MUST be equal to the current offset of the resource." (and present: 400 when missing or malformed)
  const offset = requireOffset(req.headers)
  const declaredLength = optionalLength(req.headers)
  const bodyLength = contentLength(req.headers)

  // Waiting for the lock ends when this client goes away; holding it ends when another request asks for it.
  const gone = new AbortController()
  const release = new AbortController()
  const onClose = () => gone.abort()
  req.once('close', onClose)
  if (req.destroyed) gone.abort()
  const lock = ctx.locker.newLock(id)
  await lock.lock(gone.signal, () => release.abort())
  let upload
  let result
  try {
    upload = await loadUpload(ctx, id)
    // "If the offsets do not match, the Server MUST respond with the 409 Conflict status without modifying the upload resource."
    if (upload.offset !== offset) {
      throw new AppError('ERR_OFFSET_MISMATCH', { headers: { 'Upload-Offset': String(upload.offset) } })
    }
    if (declaredLength !== undefined) {
      if (upload.size !== undefined) {
        // "Once [Upload-Length] is set the Client MUST NOT change it": the same value again is harmless.
        if (declaredLength !== upload.size) throw new AppError('ERR_LENGTH_ALREADY_SET')
      } else {
        if (declaredLength < upload.offset) throw new AppError('ERR_LENGTH_BELOW_OFFSET')
        if (declaredLength > ctx.maxUploadSize) throw new AppError('ERR_MAX_SIZE_EXCEEDED', { message: sizeRefusal(ctx.maxUploadSize, declaredLength) })
        // The record first: it may refuse the length (the owner's quota) before the store is told.
        await ctx.hooks.lengthDeclared(id, declaredLength)
        await ctx.storage.datastore.declareUploadLength(id, declaredLength)
        upload.size = declaredLength
      }
    }
    const room = upload.size !== undefined ? upload.size - offset : ctx.maxUploadSize - offset
    if (bodyLength !== undefined && bodyLength > room) {
      if (upload.size === undefined) throw new AppError('ERR_MAX_SIZE_EXCEEDED', { message: limitRefusal(ctx.maxUploadSize) })
      throw new AppError('ERR_BODY_EXCEEDS_LENGTH')
    }
    result = await writeBody(req, ctx.storage, id, offset, room, release.signal, ctx.bodyGate)
  } finally {
    req.off('close', onClose)
    await lock.unlock()
  }

  const finished = upload.size !== undefined && result.offset === upload.size
  if (finished) await ctx.hooks.finished(id, result.offset)
  // A chunked body ran past the room it had: what fitted is stored (and may
  // have finished the upload, recorded above); the request is still refused.
  if (result.exceeded) {
    const headers = { 'Upload-Offset': String(result.offset) }
    if (upload.size === undefined) throw new AppError('ERR_MAX_SIZE_EXCEEDED', { message: limitRefusal(ctx.maxUploadSize), headers })
    throw new AppError('ERR_BODY_EXCEEDS_LENGTH', { headers })
  }
  // "The Server MUST acknowledge successful PATCH requests with the 204 No Content status. It MUST include the Upload-Offset header containing the new offset."
  const headers: Record<string, string> = { 'Upload-Offset': String(result.offset) }
  // "This header MUST be included in every PATCH response if the upload is going to expire."
  if (!finished) headers['Upload-Expires'] = httpDate(expiresAt(ctx, upload))
  // A body cut short by a release request was not read to its end: do not reuse the connection.
  if (!result.complete) headers.Connection = 'close'
  send(res, 204, headers)
}
