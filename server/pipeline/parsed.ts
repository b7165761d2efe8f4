/**
 * What the pipeline knows about a file once it has been parsed: the contract
 * between the parsers (which produce it, inside the parser process), the
 * describer (which turns it into one line) and the worker (which stores it).
 * Plain data only: it crosses a process boundary and lands in a jsonb column.
 */
import type { Readable } from 'node:stream'

/** The kinds of file the pipeline understands; `other` is everything else (still `ready`, with size and type only). */
export const FILE_KINDS = ['csv', 'tsv', 'spreadsheet', 'json', 'ndjson', 'markdown', 'text', 'pdf', 'image', 'other'] as const
export type FileKind = (typeof FILE_KINDS)[number]

/** Inferred type of a table column; `empty` when every value was null/blank. */
export type ColumnType = 'integer' | 'number' | 'boolean' | 'date' | 'text' | 'empty'

export type ColumnFacts = {
  name: string
  type: ColumnType
  /** Values that were empty, NA, NULL, N/A, null, NaN, - ... */
  nulls: number
  /** For integer/number columns. */
  min?: number
  max?: number
  mean?: number
  /** For date columns: ISO strings. */
  earliest?: string
  latest?: string
  /** Approximate count of distinct values (exact below a few thousand). */
  distinct?: number
  /** A few example values as they appear in the file, at most 5, each at most 80 characters. */
  samples: string[]
}

export type TableFacts = {
  /** Data rows, not counting the header row. */
  rows: number
  columns: number
  hasHeader: boolean
  columnNames: string[]
  columnFacts: ColumnFacts[]
  /** Rows whose field count differed from the header's. */
  raggedRows: number
  /** True when column facts were computed on a sample of rows (counts stay exact). */
  sampled?: boolean
}

export type CsvFacts = TableFacts & {
  kind: 'csv' | 'tsv'
  delimiter: string
  /** 'utf-8', 'utf-16le', 'utf-16be' or 'windows-1252' (Latin-1). */
  encoding: string
  bom: boolean
}

export type SheetFacts = TableFacts & { name: string }

export type SpreadsheetFacts = {
  kind: 'spreadsheet'
  /** 'xlsx', 'xls', 'ods', 'xlsb' ... */
  format: string
  sheetNames: string[]
  /** Per sheet; empty when the workbook was too large to read in full. */
  sheets: SheetFacts[]
}

/** A JSON value's type as shown in a schema. */
export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null'

export type JsonFacts = {
  kind: 'json' | 'ndjson'
  /** Type of the top-level value; for NDJSON always 'array' (of lines). */
  shape: JsonType
  /** Items of a top-level array, lines of NDJSON, keys of a top-level object; null for scalars. */
  records: number | null
  /** Keys of the records (or of the top-level object) with the value types seen, in first-seen order, at most 200 keys. */
  schema: { key: string; types: JsonType[]; count: number }[]
  /** Deepest nesting, 1 for a flat array or object of scalars, 0 for a scalar. */
  depth: number
  /** NDJSON: lines that were not valid JSON. */
  invalidLines?: number
}

export type TextFacts = {
  kind: 'markdown' | 'text'
  encoding: string
  lines: number
  words: number
  characters: number
  /** Markdown: the headings outline, at most 200. */
  headings?: { level: number; text: string }[]
  /** Markdown: YAML front matter, when present and valid (plain data only). */
  frontMatter?: Record<string, unknown>
  /** The first non-empty line (or first heading for Markdown), at most 200 characters. */
  title?: string
}

export type PdfFacts = {
  kind: 'pdf'
  pages: number | null
  title?: string
  author?: string
  subject?: string
  creator?: string
  producer?: string
  /** ISO 8601 when the PDF's date parses. */
  createdAt?: string
  modifiedAt?: string
  /** Characters of text extracted in total (0 for a scanned PDF without a text layer). */
  textCharacters: number
}

export type ImageFacts = {
  kind: 'image'
  /** 'png', 'jpeg', 'webp', 'gif' */
  format: string
  width: number
  height: number
  /** Animation frames for GIF/APNG/animated WebP when cheap to know. */
  frames?: number
}

export type OtherFacts = { kind: 'other' }

export type FileFacts = CsvFacts | SpreadsheetFacts | JsonFacts | TextFacts | PdfFacts | ImageFacts | OtherFacts

/** A piece of the extracted text: a PDF page, a sheet, a block of CSV rows, a stretch of a text file. */
export type TextSection = { title: string; text: string }

export type Parsed = {
  kind: FileKind
  /** How a person names the format: 'CSV', 'TSV', 'Excel workbook (xlsx)', 'PDF', 'PNG image', 'Markdown' ... */
  format: string
  /** MIME type decided from the bytes (or the name when the bytes say nothing). */
  mediaType: string
  /** Bytes in the file. */
  size: number
  facts: FileFacts
  /** The extracted text, in order, capped at limits.maxTextBytes in total. */
  sections: TextSection[]
  /** True when the text was cut at the cap. */
  textTruncated: boolean
  /**
   * Set when the file was over a cap and only cheap facts were read (size,
   * type, sheet names, page count): the file is still `ready`.
   */
  partial?: { reason: string }
  /** Things a reader should know: 'declared as text/csv but the bytes are a PNG image', 'ragged rows' ... */
  notes: string[]
}

export type ParseLimits = {
  /** Largest file a whole-file format (PDF, spreadsheets, JSON) is read in full; above it only cheap facts. */
  wholeFileBytes: number
  /** Extracted text kept in total, in UTF-8 bytes. */
  maxTextBytes: number
  /** Longest line (text, Markdown, NDJSON) or CSV record, in bytes; past it the file is refused. */
  maxLineBytes: number
  /** Deepest JSON nesting accepted; past it the file is refused. */
  maxJsonDepth: number
  /** Largest width x height accepted for an image; past it the file is refused. */
  maxImagePixels: number
  /** Most bytes a zip container (xlsx, ods) may inflate to; past it the file is refused as a zip bomb. */
  maxInflatedBytes: number
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  wholeFileBytes: 64 * 1024 * 1024,
  maxTextBytes: 4 * 1024 * 1024,
  maxLineBytes: 8 * 1024 * 1024,
  maxJsonDepth: 512,
  maxImagePixels: 268_402_689, // 16383 x 16383, sharp's and libvips' default ceiling
  maxInflatedBytes: 512 * 1024 * 1024,
}

export type ParseInput = {
  /** What detection decided the file is (the registry picked the parser from it; csv vs tsv, json vs ndjson, text vs markdown). */
  kind: FileKind
  /** MIME type detection settled on. */
  mediaType: string
  /** The file's bytes from the first; read it once. */
  source: Readable
  /** Size in bytes as stored. */
  size: number
  filename: string
  limits: ParseLimits
  /** A private directory for spooling, wiped after the job. */
  tmpDir: string
}

/** What a parser returns; the parser process adds kind, mediaType, size and the detection notes. */
export type ParserOutput = Pick<Parsed, 'format' | 'facts' | 'sections' | 'textTruncated' | 'partial' | 'notes'>

export type Parser = (input: ParseInput) => Promise<ParserOutput>

/** A permanent failure: the file is corrupt, not what it claims, or over a limit. Retrying will not help. */
export class ParseError extends Error {
  override name = 'ParseError'
  /** Machine-readable reason, snake_case: 'corrupt_file', 'zip_bomb', 'json_too_deep', 'line_too_long', 'image_too_large', 'type_mismatch' ... */
  readonly code: string

  /** `message`: one human sentence that says what was wrong. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
