import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as XLSX from 'xlsx'
import { DEFAULT_PARSE_LIMITS, ParseError, type ParseLimits, type SpreadsheetFacts } from '../parsed.ts'
import { parseSpreadsheet } from './spreadsheet.ts'

let tmpDir: string
beforeAll(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'spreadsheet-test-'))
})
afterAll(async () => {
  await rm(tmpDir, { recursive: true, force: true })
})

const MiB = 1024 * 1024

function parse(bytes: Buffer, options: { limits?: Partial<ParseLimits>; filename?: string } = {}) {
  const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536))
  return parseSpreadsheet({
    kind: 'spreadsheet',
    mediaType: 'application/octet-stream',
    source: Readable.from(chunks),
    size: bytes.length,
    filename: options.filename ?? 'book.xlsx',
    limits: { ...DEFAULT_PARSE_LIMITS, ...options.limits },
    tmpDir,
  })
}

function facts(output: Awaited<ReturnType<typeof parseSpreadsheet>>): SpreadsheetFacts {
  return output.facts as SpreadsheetFacts
}

async function refusal(promise: Promise<unknown>): Promise<ParseError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(ParseError)
  return error as ParseError
}

function salesBook(): XLSX.WorkBook {
  const book = XLSX.utils.book_new()
  const sales = [
    ['region', 'units', 'price', 'shipped', 'paid'],
    ['North', 10, 2.5, new Date(Date.UTC(2024, 0, 5)), true],
    ['South', 20, null, new Date(Date.UTC(2023, 11, 31)), false],
    ['East', 30, 4, new Date(Date.UTC(2024, 1, 29)), true],
  ]
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(sales, { cellDates: true }), 'Sales')
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([[1, 2], [3, 4]]), 'Numbers')
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([]), 'Empty')
  return book
}

function write(book: XLSX.WorkBook, bookType: XLSX.BookType): Buffer {
  return XLSX.write(book, { type: 'buffer', bookType, bookSST: true }) as Buffer
}

/** An xlsx with its parts rewritten, for files no honest writer produces. */
function craftXlsx(book: XLSX.WorkBook, edit: (path: string, xml: string) => string): Buffer {
  const zip = XLSX.CFB.read(write(book, 'xlsx'), { type: 'buffer' })
  zip.FullPaths.forEach((fullPath: string, i: number) => {
    const path = fullPath.replace(/^Root Entry\//, '')
    const entry = zip.FileIndex[i]
    if (path.endsWith('.xml') && entry.content) entry.content = Buffer.from(edit(path, Buffer.from(entry.content).toString('utf8')))
  })
  return Buffer.from(XLSX.CFB.write(zip, { type: 'buffer', fileType: 'zip', compression: true }))
}

describe('parseSpreadsheet', () => {
  it('reads every sheet of an xlsx: names, rows, header, types and stats', async () => {
    const output = await parse(write(salesBook(), 'xlsx'))
    expect(output.format).toBe('Excel workbook (xlsx)')
    expect(output.partial).toBeUndefined()
    const { format, sheetNames, sheets } = facts(output)
    expect([format, sheetNames]).toEqual(['xlsx', ['Sales', 'Numbers', 'Empty']])
    expect(sheets[0]).toEqual({
      name: 'Sales', rows: 3, columns: 5, hasHeader: true, raggedRows: 0, sampled: false,
      columnNames: ['region', 'units', 'price', 'shipped', 'paid'],
      columnFacts: [
        { name: 'region', type: 'text', nulls: 0, distinct: 3, samples: ['North', 'South', 'East'] },
        { name: 'units', type: 'integer', nulls: 0, min: 10, max: 30, mean: 20, distinct: 3, samples: ['10', '20', '30'] },
        { name: 'price', type: 'number', nulls: 1, min: 2.5, max: 4, mean: 3.25, distinct: 2, samples: ['2.5', '4'] },
        { name: 'shipped', type: 'date', nulls: 0, earliest: '2023-12-31', latest: '2024-02-29', distinct: 3, samples: ['2024-01-05', '2023-12-31', '2024-02-29'] },
        { name: 'paid', type: 'boolean', nulls: 0, distinct: 2, samples: ['true', 'false'] },
      ],
    })
    expect(sheets[1]).toMatchObject({ name: 'Numbers', rows: 2, hasHeader: false, columnNames: ['column_1', 'column_2'] })
    expect(sheets[2]).toMatchObject({ name: 'Empty', rows: 0, columns: 0, columnFacts: [] })
    expect(output.sections.map((s) => s.title)).toEqual(['Sales', 'Numbers'])
    expect(output.sections[1]!.text).toBe('1,2\n3,4')
    expect(output.sections[0]!.text.split('\n')[0]).toBe('region,units,price,shipped,paid')
  })

  it('reads an Excel 97-2003 xls', async () => {
    const output = await parse(write(salesBook(), 'biff8'), { filename: 'old.xls' })
    expect(output.format).toBe('Excel 97-2003 workbook (xls)')
    expect(facts(output).format).toBe('xls')
    expect(facts(output).sheets[0]).toMatchObject({ rows: 3, columnNames: ['region', 'units', 'price', 'shipped', 'paid'] })
    expect(facts(output).sheets[0]!.columnFacts[1]).toMatchObject({ type: 'integer', min: 10, max: 30 })
  })

  it('reads an OpenDocument ods and an xlsb', async () => {
    const ods = await parse(write(salesBook(), 'ods'), { filename: 'book.ods' })
    expect([ods.format, facts(ods).sheetNames]).toEqual(['OpenDocument spreadsheet (ods)', ['Sales', 'Numbers', 'Empty']])
    expect(facts(ods).sheets[0]!.columnFacts[3]).toMatchObject({ type: 'date', earliest: '2023-12-31' })
    const xlsb = await parse(write(salesBook(), 'xlsb'), { filename: 'book.xlsb' })
    expect([xlsb.format, facts(xlsb).sheets[0]!.rows]).toEqual(['Excel binary workbook (xlsb)', 3])
  })

  it('refuses an empty file, a truncated workbook and a text file as corrupt', async () => {
    expect((await refusal(parse(Buffer.alloc(0)))).code).toBe('corrupt_file')
    const xlsx = write(salesBook(), 'xlsx')
    expect((await refusal(parse(xlsx.subarray(0, xlsx.length >> 1)))).code).toBe('corrupt_file')
    const xls = write(salesBook(), 'biff8')
    expect((await refusal(parse(xls.subarray(0, 1000)))).code).toBe('corrupt_file')
    const text = await refusal(parse(Buffer.from('region,units\nNorth,10\n')))
    expect([text.code, text.message]).toEqual(['corrupt_file', 'the file is not a spreadsheet: it is neither a zip (xlsx, ods) nor an OLE2 (xls) container'])
  })

  it('reads only the sheet names of a workbook over wholeFileBytes, leaving no spooled file', async () => {
    const bytes = write(salesBook(), 'xlsx')
    const output = await parse(bytes, { limits: { wholeFileBytes: 1024 } })
    expect(facts(output)).toEqual({ kind: 'spreadsheet', format: 'xlsx', sheetNames: ['Sales', 'Numbers', 'Empty'], sheets: [] })
    const size = `${+(bytes.length / 1024).toFixed(1)} KiB`
    expect(output.partial?.reason).toBe(`the workbook is ${size}, over the 1 KiB limit for reading spreadsheets in full: only sheet names were read`)
    expect(output.sections).toEqual([])
    expect(await readdir(tmpDir)).toEqual([])
  })

  it('refuses a workbook that inflates past maxInflatedBytes as a zip bomb', async () => {
    const zip = XLSX.CFB.read(write(salesBook(), 'xlsx'), { type: 'buffer' })
    XLSX.CFB.utils.cfb_add(zip, '/xl/media/zeros.bin', Buffer.alloc(4 * MiB))
    const bomb = Buffer.from(XLSX.CFB.write(zip, { type: 'buffer', fileType: 'zip', compression: true }))
    expect(bomb.length).toBeLessThan(MiB)
    expect((await refusal(parse(bomb, { limits: { maxInflatedBytes: 2 * MiB } }))).code).toBe('zip_bomb')
  })

  it('keeps __proto__ and constructor as plain names and values, polluting nothing', async () => {
    const bytes = craftXlsx(salesBook(), (path, xml) =>
      path === 'xl/workbook.xml' ? xml.replace('name="Sales"', 'name="__proto__"') : path === 'xl/sharedStrings.xml' ? xml.replace('<t>region</t>', '<t>__proto__</t>').replace('<t>units</t>', '<t>constructor</t>').replace('<t>North</t>', '<t>__proto__</t>') : xml,
    )
    const output = await parse(bytes)
    // Anything written through a `__proto__` name would show up as an enumerable key of Object.prototype.
    expect(Object.keys(Object.prototype)).toEqual([])
    const result = facts(output)
    expect(result.sheetNames).toEqual(['__proto__', 'Numbers', 'Empty'])
    expect(result.sheets[0]).toMatchObject({ name: '__proto__', rows: 3, columnNames: ['__proto__', 'constructor', 'price', 'shipped', 'paid'] })
    expect(result.sheets[0]!.columnFacts[0]!.samples).toEqual(['__proto__', 'South', 'East'])
    expect(JSON.parse(JSON.stringify(output.facts))).toEqual(output.facts)
    expect(output.sections[0]!.title).toBe('__proto__')
  })

  it('ignores a <dimension> claiming the whole grid', async () => {
    const bytes = craftXlsx(salesBook(), (path, xml) => (path === 'xl/worksheets/sheet1.xml' ? xml.replace(/<dimension ref="[^"]*"\/>/, '<dimension ref="A1:XFD1048576"/>') : xml))
    const started = performance.now()
    const output = await parse(bytes)
    expect(performance.now() - started).toBeLessThan(5000)
    expect(facts(output).sheets[0]).toMatchObject({ rows: 3, columns: 5 })
    expect(output.sections[0]!.text.split('\n')).toHaveLength(4)
  })

  it('reads a lone cell at the far corner of the grid without walking the empty range', async () => {
    const far = '<row r="1048576"><c r="XFD1048576"><v>7</v></c></row></sheetData>'
    const bytes = craftXlsx(salesBook(), (path, xml) => (path === 'xl/worksheets/sheet1.xml' ? xml.replace('</sheetData>', far) : xml))
    const started = performance.now()
    const output = await parse(bytes)
    expect(performance.now() - started).toBeLessThan(5000)
    const sheet = facts(output).sheets[0]!
    expect(sheet).toMatchObject({ rows: 4, columns: 16384 })
    expect(sheet.columnFacts).toHaveLength(1000)
    expect(output.notes).toContain('sheet "Sales": only the first 1000 of 16384 columns were read')
  })

  it('cuts the text at maxTextBytes on a line boundary', async () => {
    const book = XLSX.utils.book_new()
    const rows = Array.from({ length: 2000 }, (_, i) => [i, `row number ${i}`])
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['n', 'label'], ...rows]), 'Long')
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['after']]), 'After')
    const output = await parse(write(book, 'xlsx'), { limits: { maxTextBytes: 5000 } })
    expect(output.textTruncated).toBe(true)
    expect(output.sections.map((s) => s.title)).toEqual(['Long'])
    const text = output.sections[0]!.text
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(5000)
    expect(text.split('\n').at(-1)).toMatch(/^\d+,row number \d+$/)
    expect(facts(output).sheets[0]!.rows).toBe(2000)
  })
})
