/**
 * The rules a client can check before it sends a byte (which types, how
 * large), and the words a refusal is given in. Pure and browser-safe: the
 * server refuses uploads with these functions, GET /api/config hands the
 * rules out, and the bundled page (web/) imports this same module, so the
 * page refuses what the server would refuse, in the same words.
 */
import { extensionOf } from '../pipeline/media-types.ts'
import { formatBytes } from '../pipeline/format-bytes.ts'

/** Accepted types: any, or extensions plus MIME types (`image/*` allowed), with the list as people read it. */
export type TypeRules =
  | { readonly any: true }
  | { readonly any: false; readonly extensions: readonly string[]; readonly mediaTypes: readonly string[]; readonly label: string }

function mediaTypeAllowed(rules: Extract<TypeRules, { any: false }>, declared: string): boolean {
  const type = declared.split(';')[0]?.trim().toLowerCase() ?? ''
  return rules.mediaTypes.includes(type) || rules.mediaTypes.includes(`${type.split('/')[0]}/*`)
}

/**
 * Why a file named `filename` and declared as `declaredType` is refused, or
 * undefined when it is allowed. The extension decides; without one, the declared type.
 */
export function typeRefusal(rules: TypeRules, filename: string, declaredType: string | undefined): string | undefined {
  if (rules.any) return undefined
  const ext = extensionOf(filename)
  if (ext) return rules.extensions.includes(ext) ? undefined : `files of type .${ext} are not accepted here (allowed: ${rules.label})`
  const declared = declaredType?.trim() ?? ''
  if (declared && declared !== 'application/octet-stream' && mediaTypeAllowed(rules, declared)) return undefined
  return `the file has no extension${declared ? ` and its declared type ${declared} is not accepted` : ' and no declared type'} (allowed: ${rules.label})`
}

/** Why an upload of `size` bytes is refused under a limit of `maxUploadSize`, or undefined when it fits. */
export function sizeRefusal(maxUploadSize: number, size: number): string | undefined {
  if (size <= maxUploadSize) return undefined
  // Rounded units can make both sizes read the same ("10 GiB ... 10 GiB"): then the bytes say it.
  const [file, limit] = formatBytes(size) === formatBytes(maxUploadSize) ? [exactBytes(size), exactBytes(maxUploadSize)] : [formatBytes(size), formatBytes(maxUploadSize)]
  return `the file is ${file}, larger than the ${limit} this server accepts`
}

/** The same refusal when the size is not known, only that the bytes went past the limit (deferred length, a form part). */
export function limitRefusal(maxUploadSize: number): string {
  return `the upload is larger than the ${formatBytes(maxUploadSize)} this server accepts`
}

const exactBytes = (n: number) => `${new Intl.NumberFormat('en-US').format(n)} bytes`

export { formatBytes }

/**
 * What GET /api/config tells a client before it uploads: where to send the
 * bytes, in what pieces, the rules above, and whether it must authenticate.
 */
export type ClientConfig = {
  tus: {
    /** The creation URL (POST) of the tus endpoint. */
    endpoint: string
    /** Bytes per PATCH: the S3 part size on S3, so each request ends on a part boundary. */
    chunkSize: number
  }
  maxUploadSize: number
  allowedTypes: TypeRules
  /** An unfinished upload is removed this long after it was created. */
  uploadExpirySeconds: number
  /** Bytes each user may hold, or null for no quota. */
  quotaBytes: number | null
  /** The ways in besides tus: a form post (POST /api/files) always, presigned PUTs (POST /api/files/upload-url) on S3. */
  formPost: boolean
  presignedUploads: boolean
  /** required: send `Authorization: Bearer <JWT>` (when `bearer` is offered) or `X-API-Key`. */
  auth: { required: boolean; schemes: ReadonlyArray<'bearer' | 'apiKey'> }
}
