/**
 * CSV and TSV, streamed through papaparse in one pass and constant memory:
 * the first 64 KiB decide the encoding, delimiter, line ending and whether
 * the first record is a header (csv-dialect.ts); then every record is
 * counted and profiled (column-profile.ts) and the first limits.maxTextBytes
 * are re-serialised as sections of 500 rows (csv-sections.ts). What is kept:
 * the profiler's state, one section's rows, and papaparse's unfinished
 * record, which is capped at maxLineBytes.
 */
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream'
import Papa from 'papaparse'
import { ParseError, type CsvFacts, type ParseLimits, type Parser, type ParserOutput, type TextSection } from '../parsed.ts'
import { createColumnProfiler, MAX_PROFILED_COLUMNS, type ColumnProfiler } from './column-profile.ts'
import { emptyDialect, HEAD_BYTES, inspectHead, trimCarriageReturn, type Dialect } from './csv-dialect.ts'
import { createSectionWriter } from './csv-sections.ts'
import { createDecoder } from './decode-text.ts'
import { nameColumns } from './table-header.ts'

/** Chunks handed to papaparse are at least this big: it re-reads an unfinished record with every chunk. */
const MIN_CHUNK_BYTES = 64 * 1024

type Table = {
  header: string[] | undefined
  profiler: ColumnProfiler
  ragged: number
  badQuotes: number
  sections: TextSection[]
  textTruncated: boolean
}

export const parseCsv: Parser = async ({ kind, source, limits }) => {
  try {
    const { head, body } = await splitHead(source)
    const tsv = kind === 'tsv'
    if (head.length === 0) return describeTable(tsv, emptyDialect(tsv), undefined)
    const dialect = inspectHead(head, tsv)
    const table = await readTable(body, dialect, limits)
    return describeTable(tsv, dialect, table)
  } finally {
    // Stops the upstream read when we fail early; harmless once it has ended.
    source.destroy()
  }
}

/** The first 64 KiB, and every byte (those included) in chunks of at least 64 KiB. */
async function splitHead(source: Readable): Promise<{ head: Buffer; body: AsyncIterable<Buffer> }> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
  const taken: Buffer[] = []
  let length = 0
  let ended = false
  while (length < HEAD_BYTES && !ended) {
    const next = await chunks.next()
    if (next.done) ended = true
    else length += taken[taken.push(toBuffer(next.value)) - 1]!.length
  }
  async function* body(): AsyncGenerator<Buffer> {
    let pending = taken
    let pendingBytes = length
    while (!ended) {
      const next = await chunks.next()
      if (next.done) break
      const chunk = toBuffer(next.value)
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes < MIN_CHUNK_BYTES) continue
      yield pending.length === 1 ? chunk : Buffer.concat(pending)
      pending = []
      pendingBytes = 0
    }
    if (pendingBytes > 0) yield Buffer.concat(pending)
  }
  return { head: Buffer.concat(taken).subarray(0, HEAD_BYTES), body: body() }
}

/**
 * Streams every record through papaparse. Its unfinished record grows until
 * a line ending arrives (forever, after an unterminated quote), so the
 * characters fed past the last finished record are checked as each chunk
 * arrives, and each finished record's length in its step.
 */
function readTable(body: AsyncIterable<Buffer>, dialect: Dialect, limits: ParseLimits): Promise<Table> {
  return new Promise((resolve, reject) => {
    let settled = false
    let fed = 0
    let recordEnd = 0
    const table = createTableBuilder(dialect, limits.maxTextBytes)
    const text = pipeline(body, createDecoder(dialect.encoding), (error) => error && fail(error))
    function fail(error: unknown): void {
      if (settled) return
      settled = true
      text.destroy()
      // papaparse reports no errors of its own on a stream: anything else is the source failing (retryable), passed on as is.
      reject(error)
    }
    // Registered before papaparse's own listener, so it runs first for each chunk.
    text.on('data', (chunk: string) => {
      if (fed - recordEnd > limits.maxLineBytes) fail(lineTooLong(limits))
      fed += chunk.length
    })
    Papa.parse<string[]>(text, {
      delimiter: dialect.delimiter,
      newline: dialect.newline,
      // Not skipEmptyLines: papaparse implements it with a filter() per row; add() skips them for less.
      step(results, parser) {
        if (settled) return parser.abort()
        const end = results.meta.cursor
        if (end - recordEnd > limits.maxLineBytes) return fail(lineTooLong(limits))
        recordEnd = end
        if (results.errors.length > 0) table.badQuotes++
        table.add(results.data)
      },
      complete() {
        if (settled) return
        settled = true
        resolve(table.finish())
      },
      error: fail,
    })
  })
}

function lineTooLong(limits: ParseLimits): ParseError {
  const mib = limits.maxLineBytes / (1024 * 1024)
  return new ParseError('line_too_long', `a record of the CSV file is longer than the ${+mib.toFixed(2)} MiB limit (an unclosed quote makes the rest of the file one record)`)
}

function createTableBuilder(dialect: Dialect, maxTextBytes: number): Table & { add(row: string[]): void; finish(): Table } {
  const profiler = createColumnProfiler()
  const sections = createSectionWriter(dialect.delimiter, maxTextBytes)
  let width = -1
  const table = {
    header: undefined as string[] | undefined,
    profiler,
    ragged: 0,
    badQuotes: 0,
    sections: [] as TextSection[],
    textTruncated: false,
    add(row: string[]) {
      if (row.length === 1 && row[0] === '') return // an empty line
      if (dialect.mixedNewlines) trimCarriageReturn(row)
      if (width < 0) {
        width = row.length
        if (dialect.hasHeader) return void (table.header = row)
      }
      if (row.length !== width) table.ragged++
      profiler.addRow(row)
      sections.add(row, table.header)
    },
    finish() {
      Object.assign(table, sections.finish(table.header))
      return table
    },
  }
  return table
}

function describeTable(tsv: boolean, dialect: Dialect, table: Table | undefined): ParserOutput {
  const rows = table?.profiler.rowCount() ?? 0
  const columns = Math.max(table?.header?.length ?? 0, table?.profiler.columnCount() ?? 0)
  const columnNames = nameColumns(table?.header, columns)
  const { columnFacts, sampled } = table?.profiler.finish(columnNames) ?? { columnFacts: [], sampled: false }
  const facts: CsvFacts = {
    kind: tsv ? 'tsv' : 'csv',
    delimiter: dialect.delimiter,
    encoding: dialect.encoding,
    bom: dialect.bom,
    hasHeader: table?.header !== undefined,
    rows,
    columns,
    columnNames,
    columnFacts,
    raggedRows: table?.ragged ?? 0,
    sampled,
  }
  const notes = describeNotes(dialect, facts, table)
  return { format: tsv ? 'TSV' : 'CSV', facts, sections: table?.sections ?? [], textTruncated: table?.textTruncated ?? false, notes }
}

function describeNotes(dialect: Dialect, facts: CsvFacts, table: Table | undefined): string[] {
  const notes: string[] = []
  if (dialect.encoding === 'windows-1252') notes.push('decoded as windows-1252 (Latin-1): the bytes are not valid UTF-8')
  if (dialect.encoding.startsWith('utf-16')) notes.push(`decoded as ${dialect.encoding.toUpperCase()}`)
  if (facts.raggedRows > 0) {
    const basis = facts.hasHeader ? 'the header' : 'the first row'
    notes.push(`${facts.raggedRows} ragged ${plural(facts.raggedRows, 'row')}: a field count that differs from ${basis}'s`)
  }
  if (table && table.badQuotes > 0) notes.push(`${table.badQuotes} ${plural(table.badQuotes, 'record')} with malformed quotes`)
  if (facts.sampled) notes.push('column facts come from a sample: every row of the first 10,000, then every 10th row (null counts past that are scaled up)')
  if (facts.columns > MAX_PROFILED_COLUMNS) notes.push(`only the first ${MAX_PROFILED_COLUMNS} of ${facts.columns} columns were named and profiled`)
  return notes
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`
}

function toBuffer(chunk: Buffer | string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk)
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}
