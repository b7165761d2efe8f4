import { describe, expect, it } from 'vitest'
import type { ColumnFacts, ColumnType, FileFacts, Parsed, SheetFacts } from '../pipeline/parsed.ts'
import { describeFile, formatBytes } from './describe-file.ts'

function parsedOf(facts: FileFacts, extra: Partial<Parsed> = {}): Parsed {
  return { kind: facts.kind, format: '', mediaType: 'application/octet-stream', size: 1000, facts, sections: [], textTruncated: false, notes: [], ...extra }
}

function column(name: string, type: ColumnType): ColumnFacts {
  return { name, type, nulls: 0, samples: [] }
}

function table(rows: number, columns: ColumnFacts[], hasHeader = true) {
  return { rows, columns: columns.length, hasHeader, columnNames: columns.map((c) => c.name), columnFacts: columns, raggedRows: 0 }
}

function csv(rows: number, columns: ColumnFacts[], extra: { raggedRows?: number; hasHeader?: boolean } = {}): Parsed {
  const facts = { kind: 'csv' as const, delimiter: ',', encoding: 'utf-8', bom: false, ...table(rows, columns, extra.hasHeader), raggedRows: extra.raggedRows ?? 0 }
  return parsedOf(facts, { format: 'CSV', mediaType: 'text/csv' })
}

function sheet(name: string, rows: number, columns: ColumnFacts[]): SheetFacts {
  return { name, ...table(rows, columns) }
}

const FEW = [column('name', 'text'), column('age', 'integer'), column('joined', 'date'), column('score', 'number')]
const GENES = [column('gene_id', 'text'), ...Array.from({ length: 23 }, (_, i) => column(`sample_${i + 1}`, 'number'))]
const LONG_TITLE = 'Clinical trial protocol for a randomised, double-blind, placebo-controlled study of the long-term effects of daily low-dose aspirin in adults over seventy'

const CASES: Record<string, Parsed> = {
  csv: csv(3, FEW),
  tsv: parsedOf({ kind: 'tsv', delimiter: '\t', encoding: 'utf-8', bom: false, ...table(2, FEW.slice(0, 2)), raggedRows: 1 }, { format: 'TSV' }),
  spreadsheet: parsedOf(
    { kind: 'spreadsheet', format: 'xlsx', sheetNames: ['Q1', 'Q2', 'Notes'], sheets: [sheet('Q1', 1200, GENES.slice(0, 8)), sheet('Q2', 950, GENES.slice(0, 8)), sheet('Notes', 0, [])] },
    { format: 'Excel workbook (xlsx)' },
  ),
  pdf: parsedOf({ kind: 'pdf', pages: 14, title: 'Clinical trial protocol', author: 'J. Smith', textCharacters: 52_000 }, { format: 'PDF' }),
  json: parsedOf(
    { kind: 'json', shape: 'array', records: 1500, depth: 3, schema: ['id', 'name', 'tags', 'owner', 'created', 'updated', 'score'].map((key) => ({ key, types: ['string' as const], count: 1500 })) },
    { format: 'JSON' },
  ),
  ndjson: parsedOf({ kind: 'ndjson', shape: 'array', records: 20_000, depth: 1, invalidLines: 0, schema: [{ key: 'ts', types: ['string'], count: 20_000 }, { key: 'level', types: ['string'], count: 20_000 }] }, { format: 'NDJSON' }),
  markdown: parsedOf(
    { kind: 'markdown', encoding: 'utf-8', lines: 420, words: 3100, characters: 20_000, title: 'Install guide', headings: ['Install guide', 'Setup', 'Usage', 'Configuration', 'FAQ'].map((text, i) => ({ level: i === 0 ? 1 : 2, text })) },
    { format: 'Markdown' },
  ),
  text: parsedOf({ kind: 'text', encoding: 'utf-8', lines: 1203, words: 9800, characters: 60_000, title: 'Chapter One' }, { format: 'Plain text' }),
  image: parsedOf({ kind: 'image', format: 'png', width: 1920, height: 1080 }, { format: 'PNG image', mediaType: 'image/png' }),
  other: parsedOf({ kind: 'other' }, { format: 'application/zip', mediaType: 'application/zip', size: 2.3 * 1024 * 1024 }),
}

describe('describeFile', () => {
  it('names every column of a small CSV with its type', () => {
    expect(describeFile(CASES.csv!)).toBe('CSV, 3 rows x 4 columns: name (text), age (integer), joined (date), score (number)')
  })

  it('summarises many columns by type after the first text column', () => {
    expect(describeFile(csv(12_000, GENES))).toBe('CSV, 12,000 rows x 24 columns: gene_id (text) and 23 numeric columns')
  })

  it('counts mixed column types when there are many', () => {
    const columns = [column('id', 'integer'), ...GENES.slice(1, 11), column('label', 'text'), column('seen', 'date')]
    expect(describeFile(csv(5, columns))).toBe('CSV, 5 rows x 13 columns: id (integer) and 12 more (10 numeric, 1 text, 1 date)')
  })

  it('says a CSV has no header and counts its columns by type', () => {
    expect(describeFile(csv(2, [column('1', 'integer'), column('2', 'integer')], { hasHeader: false }))).toBe(
      'CSV, 2 rows x 2 columns: no header; all numeric',
    )
  })

  it('mentions ragged rows of a TSV', () => {
    expect(describeFile(CASES.tsv!)).toBe('TSV, 2 rows x 2 columns: name (text), age (integer); 1 ragged row')
  })

  it('lists the sheets of a workbook with their sizes', () => {
    expect(describeFile(CASES.spreadsheet!)).toBe(
      'Excel workbook (xlsx), 3 sheets: "Q1" (1,200 rows x 8 columns), "Q2" (950 rows x 8 columns), "Notes"',
    )
  })

  it('describes the columns of a single-sheet workbook', () => {
    const one = parsedOf({ kind: 'spreadsheet', format: 'ods', sheetNames: ['Data'], sheets: [sheet('Data', 40, FEW.slice(0, 2))] }, { format: '' })
    expect(describeFile(one)).toBe('OpenDocument spreadsheet (ods), 1 sheet "Data", 40 rows x 2 columns: name (text), age (integer)')
  })

  it('cuts a long list of sheets with a count of the rest', () => {
    const names = Array.from({ length: 40 }, (_, i) => `Region ${i + 1}`)
    const line = describeFile(parsedOf({ kind: 'spreadsheet', format: 'xlsx', sheetNames: names, sheets: names.map((n) => sheet(n, 10, FEW)) }, { format: 'Excel workbook (xlsx)' }))
    expect(line).toMatch(/^Excel workbook \(xlsx\), 40 sheets: "Region 1" \(10 rows x 4 columns\), .* \(\+\d+ more\)$/)
    expect(line.length).toBeLessThanOrEqual(200)
  })

  it('gives a PDF its page count, title and author', () => {
    expect(describeFile(CASES.pdf!)).toBe('PDF, 14 pages: "Clinical trial protocol" by J. Smith')
  })

  it('takes the first line of text when a PDF has no useful title', () => {
    const pdf = parsedOf({ kind: 'pdf', pages: 1, title: 'Microsoft Word - draft3.docx', textCharacters: 900 }, {
      format: 'PDF', sections: [{ title: 'page 1', text: '\n  Annual report 2024\nRevenue grew' }],
    })
    expect(describeFile(pdf)).toBe('PDF, 1 page: "Annual report 2024"')
  })

  it('says a PDF without text has no text layer', () => {
    expect(describeFile(parsedOf({ kind: 'pdf', pages: 3, textCharacters: 0 }, { format: 'PDF' }))).toBe('PDF, 3 pages, no text layer (scanned?)')
  })

  it('truncates a long title with an ellipsis', () => {
    const line = describeFile(parsedOf({ kind: 'pdf', pages: 2, title: LONG_TITLE, textCharacters: 10 }, { format: 'PDF' }))
    expect(line).toBe('PDF, 2 pages: "Clinical trial protocol for a randomised, double-blind, placebo-controlled study of the..."')
  })

  it('lists the keys of a JSON array of records and how deep it nests', () => {
    expect(describeFile(CASES.json!)).toBe('JSON array of 1,500 records with keys id, name, tags, owner, created, updated, score, nested 3 deep')
  })

  it('cuts a long key list with a count of the rest', () => {
    const schema = Array.from({ length: 60 }, (_, i) => ({ key: `field_number_${i}`, types: ['integer' as const], count: 1 }))
    const line = describeFile(parsedOf({ kind: 'json', shape: 'object', records: 60, depth: 1, schema }, { format: 'JSON' }))
    expect(line).toMatch(/^JSON object with 60 keys: field_number_0, field_number_1, .* \(\+\d+ more\)$/)
    expect(line.length).toBeLessThanOrEqual(200)
  })

  it('describes NDJSON by records and keys, and a JSON scalar by its type', () => {
    expect(describeFile(CASES.ndjson!)).toBe('NDJSON, 20,000 records with keys ts, level')
    expect(describeFile(parsedOf({ kind: 'json', shape: 'string', records: null, depth: 0, schema: [] }))).toBe('JSON string value')
  })

  it('gives Markdown its title and headings', () => {
    expect(describeFile(CASES.markdown!)).toBe('Markdown, 420 lines: "Install guide", 5 headings (Setup, Usage, Configuration, ...)')
  })

  it('gives plain text its lines, words and first line', () => {
    expect(describeFile(CASES.text!)).toBe('Plain text, 1,203 lines, 9,800 words: "Chapter One"')
  })

  it('gives an image its size and an animation its frames', () => {
    expect(describeFile(CASES.image!)).toBe('PNG image, 1920 x 1080')
    expect(describeFile(parsedOf({ kind: 'image', format: 'gif', width: 320, height: 240, frames: 12 }, { format: '' }))).toBe('GIF image, 320 x 240, 12 frames')
  })

  it('names other files by their type and size', () => {
    expect(describeFile(CASES.other!)).toBe('ZIP archive, 2.3 MiB')
    expect(describeFile(parsedOf({ kind: 'other' }, { format: 'Binary file', size: 1_258_291 }), { filename: 'dump.DAT' })).toBe('Binary file (.dat), 1.2 MiB')
  })

  it('says what could be read of a file too large to read in full', () => {
    const big = parsedOf({ kind: 'spreadsheet', format: 'xlsx', sheetNames: ['Data', 'Summary'], sheets: [] }, {
      format: 'Excel workbook (xlsx)', size: 95 * 1024 * 1024, partial: { reason: 'over the cap' },
    })
    expect(describeFile(big)).toBe('Excel workbook (xlsx), 95 MiB, too large to read in full: sheets "Data", "Summary"')
    const pdf = parsedOf({ kind: 'pdf', pages: 900, textCharacters: 0 }, { format: 'PDF', size: 3 * 1024 ** 3, partial: { reason: 'over the cap' } })
    expect(describeFile(pdf)).toBe('PDF, 3 GiB, too large to read in full: 900 pages')
  })

  it('calls a 0-byte file empty', () => {
    expect(describeFile({ ...csv(0, []), size: 0 }, { filename: 'x.csv' })).toBe('Empty CSV file (0 bytes)')
    expect(describeFile(parsedOf({ kind: 'text', encoding: 'utf-8', lines: 0, words: 0, characters: 0 }, { size: 0 }))).toBe('Empty text file (0 bytes)')
  })

  it('keeps every description on one line of at most 200 characters', () => {
    const hostile = parsedOf({ kind: 'text', encoding: 'utf-8', lines: 2, words: 3, characters: 20, title: `line one\nline two\r\n\u2028${'x'.repeat(500)}` })
    const wideColumns = Array.from({ length: 8 }, (_, i) => column(`a very long column name number ${i}\nwith a newline`, 'text'))
    const headings = Array.from({ length: 1000 }, (_, i) => ({ level: 2, text: `A rather long section heading number ${i}` }))
    const wordy = parsedOf({ kind: 'markdown', encoding: 'utf-8', lines: 1_000_000, words: 1, characters: 1, title: 'T'.repeat(300), headings })
    for (const parsed of [...Object.values(CASES), hostile, wordy, csv(1, wideColumns), csv(12_000, GENES)]) {
      const line = describeFile(parsed)
      expect(line).not.toMatch(/[\r\n\u2028\u2029]/)
      expect(line.length).toBeGreaterThan(10)
      expect(line.length).toBeLessThanOrEqual(200)
    }
  })
})

describe('formatBytes', () => {
  it('uses binary units with one decimal below ten', () => {
    expect([0, 1, 1023, 1024, 1536, 10 * 1024, 2.34 * 1024 ** 2, 1024 ** 4 * 2000].map(formatBytes)).toEqual([
      '0 bytes', '1 byte', '1,023 bytes', '1 KiB', '1.5 KiB', '10 KiB', '2.3 MiB', '2,000 TiB',
    ])
  })
})
