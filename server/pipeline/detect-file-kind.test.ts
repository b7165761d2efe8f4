import { gzipSync } from 'node:zlib'
import { PDFDocument } from 'pdf-lib'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import * as XLSX from 'xlsx'
import { detectFileKind, type Detection } from './detect-file-kind.ts'

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

async function image(format: 'png' | 'jpeg' | 'webp' | 'gif'): Promise<Buffer> {
  return sharp({ create: { width: 4, height: 3, channels: 3, background: '#c33' } })[format]().toBuffer()
}

async function pdf(): Promise<Buffer> {
  const doc = await PDFDocument.create()
  doc.addPage([200, 200]).drawText('Hello')
  return Buffer.from(await doc.save())
}

function workbook(bookType: XLSX.BookType): Buffer {
  const book = XLSX.utils.book_new()
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['name', 'age'], ['Ada', 36]]), 'People')
  return XLSX.write(book, { type: 'buffer', bookType }) as Buffer
}

/** A zip (or, with fileType 'cfb', an OLE compound file) holding the given entries. */
function container(entries: Record<string, string | Buffer>, fileType: 'zip' | 'cfb' = 'zip'): Buffer {
  const archive = XLSX.CFB.utils.cfb_new()
  for (const [name, content] of Object.entries(entries)) XLSX.CFB.utils.cfb_add(archive, name, Buffer.from(content))
  return XLSX.CFB.write(archive, { type: 'buffer', fileType }) as Buffer
}

function detect(bytes: Buffer | string, filename: string, declaredType = '', size?: number): Promise<Detection> {
  const head = Buffer.from(bytes).subarray(0, 64 * 1024)
  return detectFileKind({ head, filename, declaredType, size: size ?? Buffer.byteLength(bytes) })
}

describe('detectFileKind: bytes the pipeline understands', () => {
  it.each([
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['webp', 'image/webp'],
    ['gif', 'image/gif'],
  ] as const)('reads a %s image from its magic number, named or not', async (format, mediaType) => {
    const bytes = await image(format)
    expect(await detect(bytes, 'upload')).toEqual({ kind: 'image', mediaType, format, claimed: null })
    expect(await detect(bytes, `picture.${format}`)).toEqual({ kind: 'image', mediaType, format, claimed: 'image' })
  })

  it('reads a PDF', async () => {
    expect(await detect(await pdf(), 'report.pdf')).toEqual({
      kind: 'pdf', mediaType: 'application/pdf', format: 'pdf', claimed: 'pdf',
    })
  })

  it.each([
    ['xlsx', XLSX_TYPE],
    ['xls', 'application/vnd.ms-excel'],
    ['ods', 'application/vnd.oasis.opendocument.spreadsheet'],
    ['xlsb', 'application/vnd.ms-excel.sheet.binary.macroenabled.12'],
  ] as const)('reads a %s workbook as a spreadsheet without a name to go by', async (format, mediaType) => {
    expect(await detect(workbook(format), 'blob')).toEqual({ kind: 'spreadsheet', mediaType, format, claimed: null })
  })

  it('takes a zip with an xl/ folder for a workbook even when file-type says plain zip', async () => {
    const bytes = container({ 'xl/workbook.xml': '<workbook/>', 'xl/worksheets/sheet1.xml': '<worksheet/>' })
    expect(await detect(bytes, 'export')).toMatchObject({ kind: 'spreadsheet', format: 'xlsx', mediaType: XLSX_TYPE })
  })

  it('trusts an .xlsb name over file-type, which reads an OOXML .xlsb as xlsx', async () => {
    expect(await detect(workbook('xlsx'), 'Budget.xlsb')).toEqual({
      kind: 'spreadsheet', mediaType: 'application/vnd.ms-excel.sheet.binary.macroenabled.12', format: 'xlsb', claimed: 'spreadsheet',
    })
  })

  it('follows the bytes with a note when the name claims another subtype of the same family', async () => {
    expect(await detect(await image('png'), 'photo.jpg')).toEqual({
      kind: 'image', mediaType: 'image/png', format: 'png', claimed: 'image',
      note: 'the file is named "photo.jpg" but its bytes are a PNG image',
    })
    expect(await detect(workbook('xls'), 'old.xlsx')).toEqual({
      kind: 'spreadsheet', mediaType: 'application/vnd.ms-excel', format: 'xls', claimed: 'spreadsheet',
      note: 'the file is named "old.xlsx" but its bytes are an Excel workbook (xls)',
    })
  })
})

describe('detectFileKind: mismatches', () => {
  it('refuses a PNG named .csv', async () => {
    expect(await detect(await image('png'), 'data.csv')).toEqual({
      mismatch: { claimed: 'csv', claimedFrom: 'extension', detected: 'image/png' },
      message: 'the file is named "data.csv" but its bytes are a PNG image',
    })
  })

  it('refuses a PDF named .xlsx', async () => {
    expect(await detect(await pdf(), 'figures.xlsx')).toMatchObject({
      message: 'the file is named "figures.xlsx" but its bytes are a PDF document',
    })
  })

  it('refuses a plain zip named .pdf and a gzip named .csv', async () => {
    expect(await detect(container({ 'readme.txt': 'hello' }), 'report.pdf')).toEqual({
      mismatch: { claimed: 'pdf', claimedFrom: 'extension', detected: 'application/zip' },
      message: 'the file is named "report.pdf" but its bytes are a ZIP archive',
    })
    expect(await detect(gzipSync('a,b\n1,2\n'), 'data.csv')).toMatchObject({
      message: 'the file is named "data.csv" but its bytes are a gzip archive',
    })
  })

  it('refuses a Word document (docx) named .xlsx', async () => {
    const docx = container({
      '[Content_Types].xml': '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
      'word/document.xml': '<document/>',
    })
    expect(await detect(docx, 'sheet.xlsx')).toMatchObject({
      message: 'the file is named "sheet.xlsx" but its bytes are a Word document (docx)',
    })
  })

  it('refuses text named as a PDF, an image or a workbook', async () => {
    expect(await detect('name,age\nAda,36\n', 'scan.pdf')).toEqual({
      mismatch: { claimed: 'pdf', claimedFrom: 'extension', detected: 'text/csv' },
      message: 'the file is named "scan.pdf" but its bytes are plain text',
    })
    expect(await detect('hello', 'logo.png')).toMatchObject({ mismatch: { claimed: 'image' } })
    expect(await detect('hello', 'book.xlsx')).toMatchObject({ mismatch: { claimed: 'spreadsheet' } })
  })

  it('refuses binary bytes with NULs named as text', async () => {
    expect(await detect(Buffer.from([1, 2, 0, 0, 7, 9, 0, 200]), 'notes.txt')).toEqual({
      mismatch: { claimed: 'text', claimedFrom: 'extension', detected: 'application/octet-stream' },
      message: 'the file is named "notes.txt" but its bytes are binary data',
    })
  })

  it('uses the declared type as the claim when the name has no known extension', async () => {
    expect(await detect(await image('png'), 'upload', 'text/csv; charset=utf-8')).toEqual({
      mismatch: { claimed: 'csv', claimedFrom: 'declaredType', detected: 'image/png' },
      message: 'the file is declared as text/csv but its bytes are a PNG image',
    })
  })

  it('ignores application/octet-stream as a claim', async () => {
    expect(await detect(await image('png'), 'upload', 'application/octet-stream')).toMatchObject({ kind: 'image', claimed: null })
  })
})

describe('detectFileKind: other binaries', () => {
  it('calls an unclaimed zip "other" with its MIME type', async () => {
    expect(await detect(container({ 'readme.txt': 'hello' }), 'bundle.zip')).toEqual({
      kind: 'other', mediaType: 'application/zip', format: 'zip', claimed: null,
    })
  })

  it('calls unknown bytes with NULs "other" of type application/octet-stream', async () => {
    expect(await detect(Buffer.from([1, 2, 0, 0, 7, 9, 0, 200]), 'blob.bin')).toEqual({
      kind: 'other', mediaType: 'application/octet-stream', format: null, claimed: null,
    })
  })

  it('tells a Word .doc from an .xls inside the same CFB container', async () => {
    const doc = container({ WordDocument: Buffer.alloc(5000, 1) }, 'cfb')
    expect(await detect(doc, 'letter.doc')).toEqual({ kind: 'other', mediaType: 'application/msword', format: 'doc', claimed: null })
    expect(await detect(doc, 'blob')).toMatchObject({ kind: 'other', format: 'doc' })
    expect(await detect(doc, 'letter.xls')).toMatchObject({
      message: 'the file is named "letter.xls" but its bytes are a Word document (doc)',
    })
  })

  it('believes a Workbook stream over a .doc name', async () => {
    const xls = container({ Workbook: Buffer.alloc(5000, 1) }, 'cfb')
    expect(await detect(xls, 'renamed.doc')).toMatchObject({ kind: 'spreadsheet', format: 'xls' })
  })

  it('goes by the extension for a CFB whose streams say nothing', async () => {
    const unknown = container({ Contents: Buffer.alloc(5000, 1) }, 'cfb')
    expect(await detect(unknown, 'memo.doc')).toMatchObject({ kind: 'other', format: 'doc' })
    expect(await detect(unknown, 'blob')).toMatchObject({ kind: 'spreadsheet', format: 'xls' })
  })
})

describe('detectFileKind: text', () => {
  it('lets a text-family name win over sniffing', async () => {
    expect(await detect('name,age\nAda,36\n', 'notes.txt')).toEqual({ kind: 'text', mediaType: 'text/plain', format: 'text', claimed: 'text' })
    expect(await detect('not json at all', 'data.json')).toMatchObject({ kind: 'json', mediaType: 'application/json' })
    expect(await detect('a\tb\n1\t2\n', 'table.tab')).toMatchObject({ kind: 'tsv', mediaType: 'text/tab-separated-values' })
    expect(await detect('{"a":1}\n', 'events.jsonl')).toMatchObject({ kind: 'ndjson', mediaType: 'application/x-ndjson' })
    expect(await detect('# Hi\n', 'README.markdown')).toMatchObject({ kind: 'markdown', mediaType: 'text/markdown' })
  })

  it('keeps XML, which file-type recognises, as text when named .txt', async () => {
    expect(await detect('<?xml version="1.0"?>\n<a/>\n', 'feed.txt')).toMatchObject({ kind: 'text', claimed: 'text' })
    expect(await detect('<?xml version="1.0"?>\n<a/>\n', 'feed')).toMatchObject({ kind: 'text', mediaType: 'application/xml' })
  })

  it.each([
    ['a JSON object', '  {"id": 1, "tags": ["x"]}', 'json'],
    ['a JSON array', '[1, 2, 3]', 'json'],
    ['NDJSON', '{"id":1}\n{"id":2}\n{"id":3}\n', 'ndjson'],
    ['a CSV', 'id,name,score\n1,"Smith, Ada",3.5\n2,Bob,4\n', 'csv'],
    ['a semicolon CSV', 'id;name\n1;Ada\n2;Bob\n', 'csv'],
    ['a pipe-separated table', 'id|name\n1|Ada\n2|Bob\n', 'csv'],
    ['a TSV', 'id\tname, full\n1\tAda, L\n2\tBob\n', 'tsv'],
    ['Markdown with a heading', 'Intro line\n\n## Setup\n\nRun it.\n', 'markdown'],
    ['Markdown with front matter', '---\ntitle: Guide\n---\nSome text.\n', 'markdown'],
    ['Markdown with fenced code', 'Try this:\n\n```\nnpm test\n```\n', 'markdown'],
    ['prose', 'It was a dark night.\nThe rain, it fell; hard.\nAnd then it stopped.\n', 'text'],
    ['prose whose first line has a comma', 'Well, it was late.\nThe rain fell.\nNobody came.\nThe end.\n', 'text'],
    ['a log of bracketed lines', '[INFO] started\n[WARN] slow\n', 'text'],
  ])('sniffs %s when nothing is claimed', async (_, content, kind) => {
    expect(await detect(content, 'upload', 'application/octet-stream')).toMatchObject({ kind, claimed: null })
  })

  it('takes JSON cut off at the end of the head for JSON, but not a log that starts with a bracket', async () => {
    const big = 8 * 1024 * 1024
    expect(await detect('[{"id": 1, "name": "Ada"}, {"id": 2, "na', 'upload', '', big)).toMatchObject({ kind: 'json' })
    expect(await detect('[2024-01-01 10:00] started\n[2024-01-01 10:01] slow\n[2024-01-0', 'upload', '', big)).toMatchObject({ kind: 'text' })
    expect(await detect('{"id":1}\n{"id":2}\n{"id":3}\n{"id', 'upload', '', big)).toMatchObject({ kind: 'ndjson' })
  })

  it('reads UTF-16 text with a BOM and windows-1252 text as text', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,Ada\n2,Bob\n', 'utf16le')])
    expect(await detect(utf16, 'upload')).toMatchObject({ kind: 'csv' })
    const latin1 = Buffer.from('nom;ville\nRené;Orléans\nZoë;Besançon\n', 'latin1')
    expect(await detect(latin1, 'villes.csv')).toMatchObject({ kind: 'csv', claimed: 'csv' })
    expect(await detect(latin1, 'upload')).toMatchObject({ kind: 'csv', claimed: null })
  })

  it('treats control bytes other than tab, newline and form feed as binary', async () => {
    expect(await detect('hello\u0001\u0002world', 'upload')).toMatchObject({ kind: 'other' })
  })

  it('does not take bytes that are mostly high Latin-1 characters for windows-1252 text', async () => {
    const noise = Buffer.from(Array.from({ length: 600 }, (_, i) => 0xa0 + ((i * 37) % 96)))
    expect(await detect(noise, 'upload')).toMatchObject({ kind: 'other', mediaType: 'application/octet-stream' })
  })
})

describe('detectFileKind: empty files', () => {
  it('takes the kind from the claim', async () => {
    expect(await detect('', 'empty.csv')).toEqual({ kind: 'csv', mediaType: 'text/csv', format: 'csv', claimed: 'csv' })
    expect(await detect('', 'upload', 'application/pdf')).toMatchObject({ kind: 'pdf', claimed: 'pdf' })
  })

  it('calls an unclaimed empty file text', async () => {
    expect(await detect('', 'upload')).toEqual({ kind: 'text', mediaType: 'text/plain', format: 'text', claimed: null })
  })
})

describe('names that collide with Object.prototype', () => {
  it('treats a file named x.constructor or declared as "constructor" as an unknown claim', async () => {
    const head = new TextEncoder().encode('hello world\n')
    await expect(detectFileKind({ head, filename: 'x.constructor', declaredType: 'constructor', size: head.length })).resolves.toMatchObject({ kind: 'text', claimed: null })
    await expect(detectFileKind({ head, filename: 'x.__proto__', declaredType: '__proto__', size: head.length })).resolves.toMatchObject({ kind: 'text', claimed: null })
  })
})
