/**
 * One table of error codes. The REST API answers { error: { code, message } },
 * the tus endpoint answers `CODE: message` as text. tus clients read the status:
 * a 4xx on HEAD makes them forget the upload, 409/423/429/5xx make them retry.
 */
export const ERRORS = {
  ERR_NOT_FOUND: { status: 404, message: 'no such route' },
  ERR_FILE_NOT_FOUND: { status: 404, message: 'no file with this id' },
  ERR_UPLOAD_NOT_FOUND: { status: 404, message: 'no upload with this id' },
  ERR_UPLOAD_GONE: { status: 410, message: 'the upload expired and was removed; start a new one' },
  ERR_UPLOAD_INCOMPLETE: { status: 409, message: 'the upload is not finished yet' },
  ERR_UPLOAD_COMPLETE: { status: 409, message: 'this upload is already complete' },
  ERR_PRESIGN_UNAVAILABLE: { status: 501, message: 'presigned uploads need S3 storage; this server keeps files on local disk: upload with tus (/files) or a form post (POST /api/files)' },
  ERR_NOT_PRESIGNED: { status: 409, message: 'this file did not come by a presigned upload: only those are confirmed' },
  ERR_FILE_NOT_READY: { status: 409, message: 'the file is not processed yet; its text is served once its status is ready (wait with ?wait=30 or /events)' },
  ERR_TUS_VERSION: { status: 412, message: 'Tus-Resumable header missing or unsupported; this server speaks 1.0.0' },
  ERR_CONTENT_TYPE: { status: 415, message: 'PATCH bodies must be sent with Content-Type: application/offset+octet-stream' },
  ERR_INVALID_OFFSET: { status: 400, message: 'Upload-Offset must be a non-negative integer' },
  ERR_OFFSET_MISMATCH: { status: 409, message: 'Upload-Offset does not match the current offset of the upload (see the Upload-Offset response header)' },
  ERR_INVALID_LENGTH: { status: 400, message: 'Upload-Length must be a non-negative integer, or Upload-Defer-Length: 1 must be sent instead' },
  ERR_LENGTH_ALREADY_SET: { status: 400, message: 'Upload-Length is already known for this upload and cannot be changed' },
  ERR_LENGTH_BELOW_OFFSET: { status: 400, message: 'Upload-Length is smaller than the bytes already received' },
  ERR_INVALID_METADATA: { status: 400, message: 'Upload-Metadata must be comma-separated "key base64value" pairs with unique ASCII keys' },
  ERR_METADATA_TOO_LARGE: { status: 400, message: 'Upload-Metadata is too large' },
  ERR_INVALID_HEADER: { status: 400, message: 'a tus header has an invalid value' },
  ERR_MAX_SIZE_EXCEEDED: { status: 413, message: 'the upload is larger than the maximum size this server accepts (see Tus-Max-Size)' },
  ERR_BODY_EXCEEDS_LENGTH: { status: 413, message: 'the request body goes past the declared Upload-Length' },
  ERR_UNSUPPORTED_EXTENSION: { status: 400, message: 'this tus extension is not supported by this server (see Tus-Extension)' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed on this resource' },
  ERR_LOCKED: { status: 423, message: 'the upload is busy with another request; retry shortly' },
  ERR_INVALID_ID: { status: 404, message: 'no file with this id' },
  ERR_BAD_REQUEST: { status: 400, message: 'the request is malformed' },
  ERR_BODY_TOO_LARGE: { status: 413, message: 'the request body is larger than this endpoint takes' },
  ERR_INVALID_RANGE: { status: 416, message: 'the requested range is not satisfiable' },
  ERR_QUOTA_EXCEEDED: { status: 413, message: 'the upload would take you past your storage quota' },
  ERR_RATE_LIMITED: { status: 429, message: 'too many uploads created; retry after the time in Retry-After' },
  ERR_TYPE_NOT_ALLOWED: { status: 415, message: 'this type of file is not accepted by this server' },
  ERR_UNAUTHENTICATED: { status: 401, message: 'authentication required' },
  ERR_LINK_INVALID: { status: 403, message: 'this download link is not valid: forged, for another file, or the file was deleted' },
  ERR_AUTH_UNAVAILABLE: { status: 503, message: 'the identity provider could not be reached to check the token; retry shortly' },
  ERR_STORAGE_UNAVAILABLE: { status: 503, message: 'storage is unavailable; retry shortly' },
  ERR_INTERNAL: { status: 500, message: 'internal server error' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ERRORS

export class AppError extends Error {
  override name = 'AppError'
  readonly code: ErrorCode
  readonly status: number
  /** Response headers that belong with this error (e.g. the current Upload-Offset on 409). */
  readonly headers: Record<string, string>

  constructor(code: ErrorCode, options: { cause?: unknown; message?: string; headers?: Record<string, string> } = {}) {
    super(options.message ?? ERRORS[code].message, { cause: options.cause })
    this.code = code
    this.status = ERRORS[code].status
    this.headers = options.headers ?? {}
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError
}
