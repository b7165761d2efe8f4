/**
 * Decides what an uploaded file is from its first bytes and its name. The
 * bytes win: magic numbers (file-type) first, then text heuristics, and only
 * then the extension and the client's declared type, which are claims to be
 * checked, never trusted. A claim the bytes contradict across kinds is a
 * mismatch (a permanent `type_mismatch` failure); within a family (a PNG
 * named .jpg) the bytes are followed and a note says so.
 *
 * The text sniffers are in sniff-text-kind.ts, the format and media-type
 * tables in media-types.ts.
 */
import { fileTypeFromBuffer } from 'file-type'
import { DECLARED_FORMATS, EXTENSION_FORMATS, extensionOf, FORMATS, mediaTypeOf, nameMediaType } from './media-types.ts'
import type { FileKind } from './parsed.ts'
import { decodeTextHead, sniffTextKind } from './sniff-text-kind.ts'

export type Detection =
  | {
      kind: FileKind
      /** MIME type of what the bytes are (or the claim's, for an empty file). */
      mediaType: string
      /** Subtype token: 'csv', 'json', 'png', 'jpeg', 'xlsx', 'xls', 'xlsb', 'ods', 'pdf', 'zip' ...; null when nothing is known. */
      format: string | null
      /** The kind the extension (or else the declared type) claimed, if any. */
      claimed: FileKind | null
      /** Set when the bytes were followed over a claim of a different subtype in the same family. */
      note?: string
    }
  | {
      mismatch: {
        claimed: FileKind
        /** Where the claim came from: the file's extension or the client's declared MIME type. */
        claimedFrom: 'extension' | 'declaredType'
        /** MIME type the bytes actually have ('image/png', 'application/zip', 'text/plain', 'application/octet-stream'). */
        detected: string
      }
      /** One human sentence: `the file is named "data.csv" but its bytes are a PNG image`. */
      message: string
    }

export type DetectInput = { head: Uint8Array; filename: string; declaredType: string; size: number }

/** What the name or the declared type says; `source` is the filename or the bare MIME type, for messages. */
type Claim = { kind: Exclude<FileKind, 'other'>; format: string; from: 'extension' | 'declaredType'; source: string }

const TEXT_KINDS: ReadonlySet<FileKind> = new Set(['csv', 'tsv', 'json', 'ndjson', 'markdown', 'text'])

/** Decides the kind of an upload; see the header for the order of evidence. */
export async function detectFileKind(input: DetectInput): Promise<Detection> {
  const claim = readClaim(input.filename, input.declaredType)
  const claimed = claim?.kind ?? null
  if (input.size === 0) {
    const format = claim?.format ?? 'text'
    return { kind: claim?.kind ?? 'text', mediaType: mediaTypeOf(format), format, claimed }
  }
  const magic = await fileTypeFromBuffer(input.head).catch(() => undefined)
  const text = decodeTextHead(input.head)
  const bytes = magic ? describeBytes(magic, input.head, extensionOf(input.filename)) : undefined
  if (bytes && (bytes.kind !== 'other' || text === null)) return compareBinary(bytes, claim)
  if (text === null) {
    const unknown: Found = { kind: 'other', format: null, mediaType: 'application/octet-stream', label: 'binary data' }
    return compareBinary(unknown, claim)
  }
  // Text bytes (file-type may still have recognised a text format such as XML or iCalendar).
  if (claim && TEXT_KINDS.has(claim.kind)) {
    return { kind: claim.kind, mediaType: mediaTypeOf(claim.format), format: claim.format, claimed }
  }
  const kind = sniffTextKind(text, input.head.length < input.size)
  const mediaType = kind === 'text' && bytes ? bytes.mediaType : mediaTypeOf(kind)
  if (claim) return mismatch(claim, mediaType, 'plain text')
  return { kind, mediaType, format: kind, claimed: null }
}

function compareBinary(bytes: Found, claim: Claim | null): Detection {
  const claimed = claim?.kind ?? null
  const found = { kind: bytes.kind, mediaType: bytes.mediaType, format: bytes.format, claimed }
  if (!claim) return found
  if (claim.kind !== bytes.kind) return mismatch(claim, bytes.mediaType, bytes.label)
  if (claim.format === bytes.format) return found
  // file-type reads a real .xlsb as xlsx (both are OOXML zips): within the family the name knows better.
  if (claim.format === 'xlsb' && bytes.format === 'xlsx') {
    return { ...found, format: 'xlsb', mediaType: mediaTypeOf('xlsb') }
  }
  return { ...found, note: sayContradiction(claim, bytes.label) }
}

function mismatch(claim: Claim, detected: string, label: string): Detection {
  return {
    mismatch: { claimed: claim.kind, claimedFrom: claim.from, detected },
    message: sayContradiction(claim, label),
  }
}

function sayContradiction(claim: Claim, label: string): string {
  const what = claim.from === 'extension' ? `named "${claim.source}"` : `declared as ${claim.source}`
  return `the file is ${what} but its bytes are ${label}`
}

/** The kind the name claims, else the declared type (application/octet-stream and the like claim nothing). */
/** Own keys only: a name like `x.constructor` must not find Object.prototype's members. */
const lookup = (table: Record<string, string>, key: string): string | undefined => (Object.hasOwn(table, key) ? table[key] : undefined)

function readClaim(filename: string, declaredType: string): Claim | null {
  const byName = lookup(EXTENSION_FORMATS, extensionOf(filename))
  if (byName) return { kind: FORMATS[byName]!.kind, format: byName, from: 'extension', source: filename }
  const type = declaredType.split(';')[0]!.trim().toLowerCase()
  const byType = lookup(DECLARED_FORMATS, type) ?? (type.endsWith('+json') ? 'json' : undefined)
  return byType ? { kind: FORMATS[byType]!.kind, format: byType, from: 'declaredType', source: type } : null
}


/** What the magic numbers say, in the pipeline's terms; `label` names it for a sentence ("a ZIP archive"). */
type Found = { kind: FileKind; format: string | null; mediaType: string; label: string }

function withArticle(name: string): string {
  // By sound, not spelling: an MP4 video, an RTF document, an XML document.
  return /^([AEIOU]|MP\d|M4A|RTF|SQL|XML|xz\b)/i.test(name) ? `an ${name}` : `a ${name}`
}

const IMAGE_FORMATS: Record<string, string> = { png: 'png', apng: 'png', jpg: 'jpeg', webp: 'webp', gif: 'gif' }
const SPREADSHEET_FORMATS = new Set(['xlsx', 'xlsm', 'xltx', 'xltm', 'ods', 'ots'])
/** Formats stored in a CFB (OLE) container besides .xls, by extension, when the head does not say. */
const CFB_EXTENSIONS: Record<string, string> = { doc: 'doc', dot: 'doc', ppt: 'ppt', pps: 'ppt', msg: 'msg' }
/** Stream names that say which Office format a CFB holds; "Book" is Excel 5's workbook stream. */
const CFB_STREAMS = [['WordDocument', 'doc'], ['PowerPoint Document', 'ppt'], ['__substg1.0_', 'msg'], ['Workbook', 'xls'], ['Book', 'xls']] as const

function describeBytes(magic: { ext: string; mime: string }, head: Uint8Array, extension: string): Found {
  const found = (kind: FileKind, format: string | null, mediaType: string): Found => ({
    kind,
    format,
    mediaType,
    label: withArticle(nameMediaType(mediaType) ?? `${magic.ext.toUpperCase()} file`),
  })
  const image = IMAGE_FORMATS[magic.ext]
  if (image) return found('image', image, mediaTypeOf(image))
  if (magic.ext === 'pdf') return found('pdf', 'pdf', 'application/pdf')
  if (SPREADSHEET_FORMATS.has(magic.ext)) return found('spreadsheet', magic.ext, magic.mime)
  if (magic.ext === 'zip') {
    // file-type falls back to plain zip when [Content_Types].xml comes last, as in SheetJS's .xlsb.
    const names = readZipEntryNames(head)
    if (names.includes('xl/workbook.bin')) return found('spreadsheet', 'xlsb', mediaTypeOf('xlsb'))
    if (names.some((name) => name.startsWith('xl/'))) return found('spreadsheet', 'xlsx', mediaTypeOf('xlsx'))
  }
  if (magic.ext === 'cfb') {
    // The CFB directory names its streams in UTF-16LE; it is usually within the head.
    const streams = Buffer.from(head).toString('utf16le')
    const inside = CFB_STREAMS.find(([stream]) => streams.includes(stream))?.[1] ?? CFB_EXTENSIONS[extension] ?? 'xls'
    return inside === 'xls' ? found('spreadsheet', 'xls', mediaTypeOf('xls')) : found('other', inside, mediaTypeOf(inside))
  }
  return found('other', magic.ext, magic.mime)
}

/** Names of the zip entries whose local headers start within the head. */
function readZipEntryNames(head: Uint8Array): string[] {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength)
  const names: string[] = []
  for (let at = bytes.indexOf('PK\x03\x04'); at >= 0 && at + 30 <= bytes.length; at = bytes.indexOf('PK\x03\x04', at + 4)) {
    const length = bytes.readUInt16LE(at + 26)
    names.push(bytes.toString('latin1', at + 30, Math.min(at + 30 + length, bytes.length)))
  }
  return names
}
