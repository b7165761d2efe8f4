/**
 * What the tus clients in the wild put in Upload-Metadata, mapped onto a file:
 * Uppy and tus-js-client send `filename` and `filetype` (Uppy also `name` and
 * `type`); other clients send `contentType`. The client's type is used only
 * when it is a well-formed media type; else the extension decides.
 */
import mime from 'mime-types'

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(\s*;\s*[a-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[a-z0-9!#$&^_.+-]+))*$/i

export const FALLBACK_CONTENT_TYPE = 'application/octet-stream'
export const MAX_METADATA_HEADER_BYTES = 4096
export const MAX_METADATA_ENTRIES = 32

export type UploadMetadata = Record<string, string | null>

export function filenameOf(metadata: UploadMetadata | undefined): string {
  const name = metadata?.filename ?? metadata?.name ?? ''
  return name.trim() === '' ? 'upload' : name.slice(0, 1024)
}

export function isMediaType(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.length <= 255 && MEDIA_TYPE.test(value)
}

export function contentTypeOf(metadata: UploadMetadata | undefined): string {
  const declared = metadata?.filetype ?? metadata?.type ?? metadata?.contentType
  if (isMediaType(declared)) return declared.toLowerCase()
  return mime.lookup(filenameOf(metadata)) || FALLBACK_CONTENT_TYPE
}

/** The conversation a file belongs to (`conversationId`, as agent APIs send it), when it is a sane id: 1-200 printable characters. */
export function conversationIdOf(metadata: UploadMetadata | undefined): string | null {
  const value = metadata?.conversationId?.trim()
  return value && value.length <= 200 && !/[\u0000-\u001f\u007f]/.test(value) ? value : null
}
