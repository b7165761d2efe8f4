/** tus 1.0.0 constants and header parsing, each rule quoting the spec sentence it implements. */
import type { IncomingHttpHeaders } from 'node:http'
import { AppError } from '../errors.ts'

export const TUS_VERSION = '1.0.0'
export const TUS_EXTENSIONS = 'creation,creation-with-upload,creation-defer-length,termination,expiration'
export const OFFSET_OCTET_STREAM = 'application/offset+octet-stream'

/** Headers a browser on another origin may send to the tus endpoint. */
export const ALLOWED_HEADERS = [
  'Authorization', 'Content-Type', 'Origin', 'X-Requested-With', 'X-Request-ID', 'X-HTTP-Method-Override',
  'Tus-Resumable', 'Upload-Length', 'Upload-Offset', 'Upload-Metadata', 'Upload-Defer-Length', 'Upload-Concat', 'Upload-Checksum',
].join(', ')

/** Response headers a browser script may read. */
export const EXPOSED_HEADERS = [
  'Location', 'Upload-Offset', 'Upload-Length', 'Upload-Expires', 'Upload-Metadata', 'Upload-Defer-Length', 'Upload-Concat',
  'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size', 'X-Request-ID',
].join(', ')

export const ALLOWED_METHODS = 'POST, HEAD, PATCH, DELETE, OPTIONS, GET'

const DIGITS = /^\d{1,16}$/

/** A header that must hold a non-negative integer; duplicates (joined with ", " by Node) are malformed. */
function nonNegativeInt(value: string | string[] | undefined): number | undefined | null {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !DIGITS.test(value)) return null
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : null
}

/** "The Upload-Offset request and response header indicates a byte offset within a resource. The value MUST be a non-negative integer." */
export function requireOffset(headers: IncomingHttpHeaders): number {
  const offset = nonNegativeInt(headers['upload-offset'])
  if (offset === undefined || offset === null) throw new AppError('ERR_INVALID_OFFSET')
  return offset
}

/** "The Upload-Length request and response header indicates the size of the entire upload in bytes. The value MUST be a non-negative integer." */
export function optionalLength(headers: IncomingHttpHeaders): number | undefined {
  const length = nonNegativeInt(headers['upload-length'])
  if (length === null) throw new AppError('ERR_INVALID_LENGTH')
  return length
}

/** "The Upload-Defer-Length request and response header indicates that the size of the upload is not known currently and will be transferred later. Its value MUST be 1." */
export function deferredLength(headers: IncomingHttpHeaders): boolean {
  const value = headers['upload-defer-length']
  if (value === undefined) return false
  if (value !== '1') throw new AppError('ERR_INVALID_LENGTH', { message: 'Upload-Defer-Length must be 1' })
  return true
}

export function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const n = nonNegativeInt(headers['content-length'])
  return n === null ? undefined : n
}

/** Whether a request carries a body at all (a length above zero, or a chunked one). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  return (contentLength(headers) ?? 0) > 0 || headers['transfer-encoding'] !== undefined
}

/** Media type without parameters, lower-cased. */
export function mediaType(value: string | undefined): string | undefined {
  return value?.split(';', 1)[0]?.trim().toLowerCase()
}

/** RFC 7231 IMF-fixdate, as the spec asks for Upload-Expires. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString()
}
