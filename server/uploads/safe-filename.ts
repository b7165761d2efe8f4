/**
 * The name a file goes by in response headers (Content-Disposition) and in
 * storage (the S3 object's Content-Disposition). The name the client sent is
 * kept as it was for display (the file record, the listing, HEAD's
 * Upload-Metadata); this one is what a browser saves to disk, so it must not
 * name a directory, climb out of one, or show the user something other than
 * what it is: "invoice\u202Egpj.exe" displays as "invoiceexe.jpg".
 */

export const FALLBACK_FILENAME = 'download'
export const MAX_FILENAME_LENGTH = 200

/** Extensions up to this long survive a cut: the name keeps its type when saved. */
const MAX_KEPT_EXTENSION = 16

/**
 * Control characters (C0, DEL, C1: \p{Cc}), format characters (\p{Cf}: the
 * bidi embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, the
 * zero-width U+200B-U+200F, U+FEFF, the invisible tag characters) and the
 * line and paragraph separators U+2028/U+2029, which some tools treat as newlines.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu

/** Everything up to the last separator: "../../etc/passwd" names "passwd", "C:\\x\\y.csv" names "y.csv". */
function basename(name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1)
}

function trimDotsAndSpaces(name: string): string {
  return name.replace(/^[.\s]+|[.\s]+$/gu, '')
}

/** At most `max` UTF-16 units, never ending on the first half of a surrogate pair. */
function cutAt(text: string, max: number): string {
  if (text.length <= max) return text
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max
  return text.slice(0, end)
}

/** Caps a trimmed name at MAX_FILENAME_LENGTH, cutting the stem rather than a short extension. */
function capLength(name: string): string {
  if (name.length <= MAX_FILENAME_LENGTH) return name
  const dot = name.lastIndexOf('.')
  const extension = dot > 0 && name.length - dot <= MAX_KEPT_EXTENSION ? name.slice(dot) : ''
  // The stem starts with neither a dot nor a space (the name was trimmed), so something of it is left.
  const stem = cutAt(name.slice(0, name.length - extension.length), MAX_FILENAME_LENGTH - extension.length)
  return trimDotsAndSpaces(stem) + extension
}

export function safeFilename(name: string): string {
  // Lone surrogates become U+FFFD: they cannot be percent-encoded for filename*.
  let safe = name.toWellFormed().replace(INVISIBLE, '')
  // Normalised after the removals (a mark cut off from its letter by a removed character composes again)
  // and before the separators are looked for, so nothing after this step can make one.
  safe = basename(safe.normalize('NFC'))
  // No "..", wherever it stands: one dot is left of each run.
  safe = safe.replace(/\.{2,}/g, '.')
  safe = capLength(trimDotsAndSpaces(safe))
  return safe === '' ? FALLBACK_FILENAME : safe
}
