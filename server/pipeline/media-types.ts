/**
 * The media-type tables: the formats the pipeline parses (kind and MIME
 * type), which extensions and declared MIME types claim which format, and
 * how a person names a MIME type.
 */
import type { FileKind } from './parsed.ts'

/** The formats the pipeline parses: their kind and MIME type. */
export const FORMATS: Record<string, { kind: Exclude<FileKind, 'other'>; mediaType: string }> = {
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

/** Lower-case extension -> the format it claims. */
export const EXTENSION_FORMATS: Record<string, string> = {
  ...Object.fromEntries(Object.keys(FORMATS).map((format) => [format, format])),
  ...{ tab: 'tsv', jsonl: 'ndjson', md: 'markdown', txt: 'text', log: 'text', jpg: 'jpeg' },
}

/** Bare lower-case MIME type -> the format it claims. */
export const DECLARED_FORMATS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(FORMATS).map(([format, { mediaType }]) => [mediaType, format])),
  ...{ 'application/csv': 'csv', 'text/json': 'json', 'application/ndjson': 'ndjson', 'application/jsonl': 'ndjson' },
  ...{ 'text/x-markdown': 'markdown' },
}

/** MIME type of a format token; application/octet-stream when it is not one we know. */
export function mediaTypeOf(format: string): string {
  if (Object.hasOwn(FORMATS, format)) return FORMATS[format]!.mediaType
  return Object.hasOwn(OTHER_MEDIA_TYPES, format) ? OTHER_MEDIA_TYPES[format]! : 'application/octet-stream'
}

/** Office formats in a CFB container that the pipeline does not parse but still names. */
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
  const key = mediaType.split(';')[0]!.trim().toLowerCase()
  return Object.hasOwn(FORMAT_NAMES, key) ? FORMAT_NAMES[key] : undefined
}

/** The lowercased extension of a file's base name ('' for none, or for a dotfile like `.env`). */
export function extensionOf(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? ''
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : ''
}
