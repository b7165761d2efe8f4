/**
 * Decides what an uploaded file is from its first bytes and its name. The
 * bytes win: magic numbers (file-type) first, then text heuristics, and only
 * then the extension and the client's declared type, which are claims to be
 * checked, never trusted. A claim the bytes contradict across kinds is a
 * mismatch (a permanent `type_mismatch` failure); within a family (a PNG
 * named .jpg) the bytes are followed and a note says so.
 *
 * Longer than the house's ~200 lines: the text sniffers and the table of
 * format names would each make a file of their own (sniff-text-kind.ts,
 * name-media-type.ts) once someone owns them; they are pure and self-contained.
 */
import { fileTypeFromBuffer } from 'file-type'
import type { FileKind } from './parsed.ts'
import { detectEncoding } from './parsers/decode-text.ts'

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

/** The formats the pipeline parses: their kind and MIME type. */
const FORMATS: Record<string, { kind: Claim['kind']; mediaType: string }> = {
  csv: { kind: 'csv', mediaType: 'text/csv' },
  tsv: { kind: 'tsv', mediaType: 'text/tab-separated-values' },
  json: { kind: 'json', mediaType: 'application/json' },
  ndjson: { kind: 'ndjson', mediaType: 'application/x-ndjson' },
  markdown: { kind: 'markdown', mediaType: 'text/markdown' },
  text: { kind: 'text', mediaType: 'text/plain' },
  pdf: { kind: 'pdf', mediaType: 'application/pdf' },
  png: { kind: 'image', mediaType: 'image/png' },
  jpeg: { kind: 'image', mediaType: 'image/jpeg' },
  webp: { kind: 'image', mediaType: 'image/webp' },
  gif: { kind: 'image', mediaType: 'image/gif' },
  xlsx: { kind: 'spreadsheet', mediaType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  xlsm: { kind: 'spreadsheet', mediaType: 'application/vnd.ms-excel.sheet.macroenabled.12' },
  xlsb: { kind: 'spreadsheet', mediaType: 'application/vnd.ms-excel.sheet.binary.macroenabled.12' },
  xls: { kind: 'spreadsheet', mediaType: 'application/vnd.ms-excel' },
  ods: { kind: 'spreadsheet', mediaType: 'application/vnd.oasis.opendocument.spreadsheet' },
}

const EXTENSION_FORMATS: Record<string, string> = {
  ...Object.fromEntries(Object.keys(FORMATS).map((format) => [format, format])),
  ...{ tab: 'tsv', jsonl: 'ndjson', md: 'markdown', txt: 'text', log: 'text', jpg: 'jpeg' },
}

const DECLARED_FORMATS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(FORMATS).map(([format, { mediaType }]) => [mediaType, format])),
  ...{ 'application/csv': 'csv', 'text/json': 'json', 'application/ndjson': 'ndjson', 'application/jsonl': 'ndjson' },
  ...{ 'text/x-markdown': 'markdown' },
}

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
function readClaim(filename: string, declaredType: string): Claim | null {
  const byName = EXTENSION_FORMATS[extensionOf(filename)]
  if (byName) return { kind: FORMATS[byName]!.kind, format: byName, from: 'extension', source: filename }
  const type = declaredType.split(';')[0]!.trim().toLowerCase()
  const byType = DECLARED_FORMATS[type] ?? (type.endsWith('+json') ? 'json' : undefined)
  return byType ? { kind: FORMATS[byType]!.kind, format: byType, from: 'declaredType', source: type } : null
}

function extensionOf(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? ''
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : ''
}

/**
 * The head as text, or null when it does not look like text: NUL or other
 * control characters (beyond tab, newlines, form feed and ESC for coloured
 * logs), undefined windows-1252 bytes, or mostly non-ASCII Latin-1.
 */
function decodeTextHead(head: Uint8Array): string | null {
  const { encoding } = detectEncoding(head)
  const text = new TextDecoder(encoding).decode(head)
  if (/[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f\u007f]/.test(text)) return null
  if (encoding === 'windows-1252') {
    if (/[\u0080-\u009f]/.test(text)) return null // 0x81, 0x8d, 0x8f, 0x90, 0x9d are unassigned
    const high = text.match(/[^\u0000-\u007f]/g)?.length ?? 0
    if (high > text.length * 0.3) return null
  }
  return text
}

/** Guesses a text kind from content alone: JSON, NDJSON, CSV/TSV, Markdown, else plain text. */
function sniffTextKind(text: string, cutOff: boolean): FileKind {
  const body = text.replace(/^\uFEFF/, '')
  const lines = body.split('\n')
  if (cutOff) lines.pop() // the last line may be cut mid-way
  const first = body.trimStart()[0]
  if ((first === '{' || first === '[') && isJsonPrefix(body.trim())) return 'json'
  if (isNdjson(lines)) return 'ndjson'
  const delimiter = sniffDelimiter(cutOff ? lines.join('\n') : body)
  if (delimiter) return delimiter === '\t' ? 'tsv' : 'csv'
  if (looksLikeMarkdown(lines)) return 'markdown'
  return 'text'
}

/**
 * True when `text` is JSON or the start of it, cut off at the end of the
 * sample. A lenient walk of the grammar: running out of input is fine, a
 * token that cannot follow is not (`[INFO] started` fails at `I`). A whole
 * file that stops mid-value still counts: the JSON parser then says how it is broken.
 */
function isJsonPrefix(text: string): boolean {
  const stack: string[] = []
  let expect: 'value' | 'key' | 'colon' | 'next' = 'value'
  let i = 0
  const space = /[ \t\r\n]*/y
  const number = /-?\d+(\.\d*)?([eE][+-]?\d*)?/y
  for (;;) {
    space.lastIndex = i
    space.exec(text)
    i = space.lastIndex
    if (i >= text.length) return true
    const c = text[i]!
    const top = stack.at(-1)
    let next = i + 1
    if (expect === 'colon') {
      if (c !== ':') return false
      expect = 'value'
    } else if ((c === '}' && top === '{' && expect !== 'value') || (c === ']' && top === '[' && expect !== 'key')) {
      stack.pop()
      if (stack.length === 0) return text.slice(next).trim() === ''
      expect = 'next'
    } else if (expect === 'next') {
      if (c !== ',' || !top) return false
      expect = top === '{' ? 'key' : 'value'
    } else if (c === '"') {
      next = findStringEnd(text, i)
      if (next < 0) return true
      expect = expect === 'key' ? 'colon' : 'next'
    } else if (expect === 'key') {
      return false
    } else if (c === '{' || c === '[') {
      stack.push(c)
      expect = c === '{' ? 'key' : 'value'
    } else {
      number.lastIndex = i
      const word = number.exec(text)?.[0] ?? LITERALS.find((w) => text.startsWith(w, i))
      if (!word) return LITERALS.some((w) => w.startsWith(text.slice(i)))
      next = i + word.length
      expect = 'next'
    }
    i = next
  }
}

const LITERALS = ['true', 'false', 'null']

/** Index just past the closing quote of the string starting at `start`, or -1 when the text ends inside it. */
function findStringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i + 1
  }
  return -1
}

function isNdjson(lines: string[]): boolean {
  const records = lines.map((line) => line.trim()).filter((line) => line !== '')
  if (records.length < 2 || !records.every((line) => line.startsWith('{'))) return false
  return records.every((line) => {
    try {
      JSON.parse(line)
      return true
    } catch {
      return false
    }
  })
}

const DELIMITERS = ['\t', ',', ';', '|'] as const

/**
 * The delimiter that appears the same number of times (at least once) in
 * nearly every one of the first records, counting outside double quotes
 * (a quoted field may hold the delimiter or a newline); the largest count wins.
 */
function sniffDelimiter(text: string): string | null {
  const records: Record<string, number>[] = []
  let counts = countNothing()
  let quoted = false
  let start = 0
  for (let i = 0; i <= text.length && records.length < 50; i++) {
    const c = text[i]
    if (c === '"') quoted = !quoted
    else if (quoted) continue
    else if (c === '\n' || c === undefined) {
      if (text.slice(start, i).trim() !== '') records.push(counts)
      counts = countNothing()
      start = i + 1
    } else if (c in counts) counts[c]!++
  }
  if (records.length < 2) return null
  let best: { delimiter: string; count: number } | null = null
  for (const delimiter of DELIMITERS) {
    const count = records[0]![delimiter]!
    const same = records.filter((r) => r[delimiter] === count).length
    if (count > 0 && same >= records.length * 0.9 && count > (best?.count ?? 0)) best = { delimiter, count }
  }
  return best?.delimiter ?? null
}

function countNothing(): Record<string, number> {
  return { '\t': 0, ',': 0, ';': 0, '|': 0 }
}

function looksLikeMarkdown(lines: string[]): boolean {
  if (lines[0]?.trim() === '---' && lines.slice(1).some((line) => /^(---|\.\.\.)\s*$/.test(line))) return true
  const sample = lines.slice(0, 500)
  const fences = sample.filter((line) => /^\s{0,3}(```|~~~)/.test(line)).length
  return fences >= 2 || sample.some((line) => /^#{1,6}[ \t]+\S/.test(line))
}

/** What the magic numbers say, in the pipeline's terms; `label` names it for a sentence ("a ZIP archive"). */
type Found = { kind: FileKind; format: string | null; mediaType: string; label: string }

function mediaTypeOf(format: string): string {
  return FORMATS[format]?.mediaType ?? OTHER_MEDIA_TYPES[format] ?? 'application/octet-stream'
}

const OTHER_MEDIA_TYPES: Record<string, string> = {
  doc: 'application/msword',
  ppt: 'application/vnd.ms-powerpoint',
  msg: 'application/vnd.ms-outlook',
}

const FORMAT_NAMES: Record<string, string> = {
  'image/png': 'PNG image', 'image/apng': 'PNG image', 'image/jpeg': 'JPEG image', 'image/webp': 'WebP image',
  'image/gif': 'GIF image', 'image/bmp': 'BMP image', 'image/tiff': 'TIFF image', 'image/heic': 'HEIC image',
  'image/avif': 'AVIF image', 'image/x-icon': 'icon', 'image/vnd.adobe.photoshop': 'Photoshop document',
  'application/pdf': 'PDF document',
  ...Object.fromEntries(['xlsx', 'xlsm', 'xlsb', 'xls'].map((f) => [mediaTypeOf(f), `Excel workbook (${f})`])),
  [mediaTypeOf('ods')]: 'OpenDocument spreadsheet (ods)',
  'application/msword': 'Word document (doc)', 'application/vnd.ms-powerpoint': 'PowerPoint presentation (ppt)',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word document (docx)',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint presentation (pptx)',
  'application/vnd.oasis.opendocument.text': 'OpenDocument text (odt)', 'application/vnd.ms-outlook': 'Outlook message',
  'application/x-cfb': 'Microsoft Office (OLE) file', 'application/rtf': 'RTF document', 'application/xml': 'XML document',
  'application/zip': 'ZIP archive', 'application/gzip': 'gzip archive', 'application/x-bzip2': 'bzip2 archive',
  'application/x-xz': 'xz archive', 'application/zstd': 'Zstandard archive', 'application/x-tar': 'tar archive',
  'application/x-7z-compressed': '7-Zip archive', 'application/x-rar-compressed': 'RAR archive',
  'application/x-iso9660-image': 'ISO disk image', 'application/java-archive': 'Java archive',
  'application/x-msdownload': 'Windows executable', 'application/x-elf': 'ELF executable',
  'application/x-mach-binary': 'Mach-O executable', 'application/wasm': 'WebAssembly module',
  'application/x-sqlite3': 'SQLite database', 'application/vnd.apache.parquet': 'Parquet file',
  'application/epub+zip': 'EPUB e-book', 'video/mp4': 'MP4 video', 'video/quicktime': 'QuickTime video',
  'video/webm': 'WebM video', 'video/matroska': 'Matroska video', 'video/vnd.avi': 'AVI video',
  'audio/mpeg': 'MP3 audio file', 'audio/wav': 'WAV audio file', 'audio/flac': 'FLAC audio file',
  'audio/ogg': 'Ogg audio file', 'audio/x-m4a': 'M4A audio file',
}

/** How a person names a MIME type ("ZIP archive", "PNG image"), or undefined when it is not one we know. */
export function nameMediaType(mediaType: string): string | undefined {
  return FORMAT_NAMES[mediaType.split(';')[0]!.trim().toLowerCase()]
}

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
