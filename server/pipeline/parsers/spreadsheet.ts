/**
 * Spreadsheets: xlsx, xlsm, xlsb, ods (zip containers) and xls (OLE2/CFB).
 * Up to limits.wholeFileBytes the file is read into one Buffer, zip formats
 * pass the zip guard, and SheetJS parses it in dense mode (its sparse mode
 * did not finish a 50 MiB xlsx in 600 s). Past that, the file is spooled to
 * the temp dir and only the zip directory and sheet list are read.
 *
 * Nothing trusts a sheet's declared range (`<dimension ref="A1:XFD1048576">`
 * costs a crafted file nothing): rows come from the dense row array, at most
 * MAX_PROFILED_COLUMNS columns of each are read, and the text is made from
 * ranges clipped to the data. Sheet names stay array values, never keys.
 */
import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as XLSX from 'xlsx'
import { ParseError, type ParseInput, type Parser, type ParserOutput, type SheetFacts, type SpreadsheetFacts, type TextSection } from '../parsed.ts'
import { createColumnProfiler, looksLikeHeader, MAX_PROFILED_COLUMNS, nameColumns } from './column-profile.ts'
import { guardZip, readZipWorkbook } from './zip-guard.ts'

const ZIP_MAGIC = Buffer.from('504b0304', 'hex')
const CFB_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex')
const HEADER_PROBE_ROWS = 50
const TEXT_BATCH_ROWS = 500

type Format = 'xlsx' | 'xlsm' | 'xlsb' | 'xls' | 'ods'
const FORMAT_NAMES: ReadonlyMap<Format, string> = new Map([
  ['xlsx', 'Excel workbook (xlsx)'],
  ['xlsm', 'Excel macro-enabled workbook (xlsm)'],
  ['xlsb', 'Excel binary workbook (xlsb)'],
  ['xls', 'Excel 97-2003 workbook (xls)'],
  ['ods', 'OpenDocument spreadsheet (ods)'],
])

const READ_OPTIONS: XLSX.ParsingOptions & { nodim: boolean } = {
  type: 'buffer',
  dense: true,
  cellHTML: false,
  cellFormula: false,
  cellStyles: false,
  cellNF: false,
  cellText: false,
  cellDates: true,
  sheetStubs: false,
  bookVBA: false,
  // Work out ranges from the cells, not from the file's <dimension> claim.
  nodim: true,
}

export const parseSpreadsheet: Parser = async (input) => {
  try {
    if (input.size > input.limits.wholeFileBytes) return await describeFromDirectory(input)
    const bytes = await readWhole(input.source, input.limits.wholeFileBytes)
    const format = await identifyFormat(bytes, input)
    const workbook = readWorkbook(bytes)
    return describeWorkbook(workbook, format, input.limits.maxTextBytes)
  } finally {
    input.source.destroy()
  }
}

async function readWhole(source: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of source as AsyncIterable<Buffer>) {
    length += chunk.length
    if (length > maxBytes) throw new ParseError('corrupt_file', 'the file holds more bytes than its recorded size')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, length)
}

async function identifyFormat(bytes: Buffer, input: ParseInput): Promise<Format> {
  if (bytes.length === 0) throw new ParseError('corrupt_file', 'the file is empty, so it is not a spreadsheet')
  if (bytes.subarray(0, 4).equals(ZIP_MAGIC)) return identifyZipFormat((await guardZip(bytes, input.limits)).entryNames, input.filename)
  if (bytes.subarray(0, 8).equals(CFB_MAGIC)) return 'xls'
  throw notASpreadsheet()
}

function identifyZipFormat(entryNames: readonly string[], filename: string): Format {
  const names = new Set(entryNames)
  if (names.has('xl/workbook.bin')) return 'xlsb'
  if (names.has('xl/workbook.xml')) return names.has('xl/vbaProject.bin') || /\.xlsm$/i.test(filename) ? 'xlsm' : 'xlsx'
  if (names.has('content.xml')) return 'ods'
  throw new ParseError('corrupt_file', 'the file is a zip archive but not a spreadsheet: it holds no workbook')
}

function notASpreadsheet(): ParseError {
  return new ParseError('corrupt_file', 'the file is not a spreadsheet: it is neither a zip (xlsx, ods) nor an OLE2 (xls) container')
}

function readWorkbook(bytes: Buffer): XLSX.WorkBook {
  try {
    return XLSX.read(bytes, READ_OPTIONS)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const reason = /password|encrypt/i.test(message) ? 'it is password-protected' : 'it is damaged or truncated'
    throw new ParseError('corrupt_file', `the workbook could not be read: ${reason}`, { cause: error })
  }
}

/** Over the whole-file cap: spool to disk, then read the zip directory and sheet list only (no SheetJS). */
async function describeFromDirectory({ source, size, filename, limits, tmpDir }: ParseInput): Promise<ParserOutput> {
  const path = join(tmpDir, `spreadsheet-${randomUUID()}`)
  try {
    await pipeline(source, createWriteStream(path))
    const head = await readHead(path, 8)
    let format: Format = 'xls'
    let sheetNames: string[] = []
    if (head.subarray(0, 4).equals(ZIP_MAGIC)) {
      const workbook = await readZipWorkbook(path, limits)
      format = identifyZipFormat(workbook.entryNames, filename)
      sheetNames = workbook.sheetNames
    } else if (!head.equals(CFB_MAGIC)) throw notASpreadsheet()
    const read = sheetNames.length > 0 ? 'only sheet names were read' : 'only its size and type were read'
    const reason = `the workbook is ${formatSize(size)}, over the ${formatSize(limits.wholeFileBytes)} limit for reading spreadsheets in full: ${read}`
    const facts: SpreadsheetFacts = { kind: 'spreadsheet', format, sheetNames, sheets: [] }
    return { format: FORMAT_NAMES.get(format) as string, facts, sections: [], textTruncated: false, partial: { reason }, notes: [] }
  } finally {
    await rm(path, { force: true })
  }
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const file = await open(path)
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
}

function describeWorkbook(workbook: XLSX.WorkBook, format: Format, maxTextBytes: number): ParserOutput {
  const sheetNames = [...workbook.SheetNames]
  const sheets: SheetFacts[] = []
  const sections: TextSection[] = []
  const notes: string[] = []
  let budget = maxTextBytes
  let textTruncated = false
  for (const name of sheetNames) {
    const sheet = workbook.Sheets[name]
    const layout = measureSheet(sheet)
    const facts = profileSheet(name, layout)
    sheets.push(facts)
    if (facts.sampled) notes.push(`sheet ${JSON.stringify(name)}: column facts come from a sample of its rows`)
    if (facts.columns > MAX_PROFILED_COLUMNS) notes.push(`sheet ${JSON.stringify(name)}: only the first ${MAX_PROFILED_COLUMNS} of ${facts.columns} columns were read`)
    if (!sheet || layout.rows.length === 0 || textTruncated) continue
    const text = sheetText(sheet, layout, budget)
    if (text.text !== '') sections.push({ title: name, text: text.text })
    budget -= Buffer.byteLength(text.text)
    textTruncated = text.truncated
  }
  const facts: SpreadsheetFacts = { kind: 'spreadsheet', format, sheetNames, sheets }
  return { format: FORMAT_NAMES.get(format) as string, facts, sections, textTruncated, notes }
}

type Cell = XLSX.CellObject | undefined
type SheetLayout = { data: Cell[][]; rows: number[]; firstColumn: number; width: number }

/** Where the data is, from the rows that exist: the declared range is not trusted. */
function measureSheet(sheet: XLSX.WorkSheet | undefined): SheetLayout {
  const data = (Array.isArray(sheet?.['!data']) ? sheet['!data'] : []) as Cell[][]
  const rows: number[] = []
  let firstColumn = Infinity
  let lastColumn = -1
  for (let r = 0; r < data.length; r++) {
    const row = data[r]
    if (!Array.isArray(row) || row.length === 0) continue
    // Only the first MAX_PROFILED_COLUMNS cells are searched: a row's far cells are counted, not read.
    const first = row.findIndex((cell, c) => c >= MAX_PROFILED_COLUMNS || hasValue(cell))
    if (first < 0) continue
    rows.push(r)
    if (first < MAX_PROFILED_COLUMNS) firstColumn = Math.min(firstColumn, first)
    lastColumn = Math.max(lastColumn, row.length - 1)
  }
  if (rows.length === 0) return { data, rows, firstColumn: 0, width: 0 }
  if (firstColumn === Infinity) firstColumn = 0
  return { data, rows, firstColumn, width: lastColumn - firstColumn + 1 }
}

/**
 * Every row is read (a sheet has at most 1,048,576 in Excel and LibreOffice)
 * so that row and null counts are exact; the profiler samples past 50,000.
 */
function profileSheet(name: string, layout: SheetLayout): SheetFacts {
  const readRow = (r: number) => rowValues(layout.data[r] as Cell[], layout.firstColumn, layout.width)
  const probe = layout.rows.slice(0, HEADER_PROBE_ROWS + 1).map(readRow)
  const hasHeader = probe.length > 0 && looksLikeHeader(probe[0] as string[], probe.slice(1))
  const header = hasHeader ? probe[0] : undefined
  const profiler = createColumnProfiler()
  let ragged = 0
  for (let i = hasHeader ? 1 : 0; i < layout.rows.length; i++) {
    const values = i < probe.length ? (probe[i] as string[]) : readRow(layout.rows[i] as number)
    // Sheets do not store trailing empty cells, so short rows are normal: ragged means data right of the header.
    if (header && values.length > header.length) ragged++
    profiler.addRow(values)
  }
  const columnNames = nameColumns(header, layout.width)
  const { columnFacts, sampled } = profiler.finish(columnNames)
  const rows = profiler.rowCount()
  return { name, rows, columns: layout.width, hasHeader, columnNames, columnFacts, raggedRows: ragged, sampled }
}

/** The row's values as text, without trailing empty cells, at most MAX_PROFILED_COLUMNS. */
function rowValues(row: Cell[], firstColumn: number, width: number): string[] {
  const end = Math.min(row.length, firstColumn + Math.min(width, MAX_PROFILED_COLUMNS))
  const values: string[] = []
  for (let c = firstColumn; c < end; c++) values.push(cellText(row[c]))
  while (values.length > 0 && values[values.length - 1] === '') values.pop()
  return values
}

function hasValue(cell: Cell): boolean {
  return cell !== undefined && cell !== null && cell.v !== undefined && cell.v !== null && cell.v !== ''
}

/** Raw values as the profiler reads them: numbers unformatted, dates ISO, errors (#N/A, #DIV/0!) as missing. */
function cellText(cell: Cell): string {
  if (!hasValue(cell)) return ''
  const { t: type, v: value } = cell as XLSX.CellObject
  if (type === 's') return String(value)
  if (type === 'n') return String(value)
  if (type === 'b') return value ? 'true' : 'false'
  if (type === 'd' && value instanceof Date && !Number.isNaN(value.getTime())) {
    const iso = value.toISOString()
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso
  }
  return ''
}

/**
 * The sheet as CSV (formatted values, as a person sees them), made by
 * sheet_to_csv over runs of rows clipped to the data, so that blank
 * stretches and a huge declared range cost nothing; cut at `budget` bytes.
 */
function sheetText(sheet: XLSX.WorkSheet, layout: SheetLayout, budget: number): { text: string; truncated: boolean } {
  const declared = sheet['!ref']
  const lastColumn = layout.firstColumn + Math.min(layout.width, MAX_PROFILED_COLUMNS) - 1
  const parts: string[] = []
  let used = 0
  try {
    for (const [first, last] of listRowRuns(layout.rows, TEXT_BATCH_ROWS)) {
      sheet['!ref'] = XLSX.utils.encode_range({ s: { r: first, c: layout.firstColumn }, e: { r: last, c: lastColumn } })
      const csv = XLSX.utils.sheet_to_csv(sheet, { blankrows: false })
      const bytes = Buffer.byteLength(csv) + (parts.length > 0 ? 1 : 0)
      if (used + bytes > budget) {
        const fitted = fitLines(csv, budget - used - (parts.length > 0 ? 1 : 0))
        if (fitted !== '') parts.push(fitted)
        return { text: parts.join('\n'), truncated: true }
      }
      parts.push(csv)
      used += bytes
    }
    return { text: parts.join('\n'), truncated: false }
  } finally {
    sheet['!ref'] = declared
  }
}

/** Runs of consecutive row indexes, at most `max` long: sheet_to_csv walks every row of a range, data or not. */
function listRowRuns(rows: readonly number[], max: number): [number, number][] {
  const runs: [number, number][] = []
  for (let i = 0; i < rows.length; ) {
    const first = rows[i] as number
    let last = first
    while (++i < rows.length && rows[i] === last + 1 && last - first + 1 < max) last++
    runs.push([first, last])
  }
  return runs
}

/** The longest run of whole lines of `text` within `maxBytes` of UTF-8. */
function fitLines(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return ''
  const bytes = Buffer.from(text)
  const cut = bytes.subarray(0, maxBytes + 1).lastIndexOf(0x0a)
  return cut <= 0 ? '' : bytes.subarray(0, cut).toString('utf8')
}

function formatSize(bytes: number): string {
  const unit = bytes >= 1024 * 1024 ? 'MiB' : 'KiB'
  return `${+(bytes / (unit === 'MiB' ? 1024 * 1024 : 1024)).toFixed(1)} ${unit}`
}
