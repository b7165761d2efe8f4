import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { PDFDocument, StandardFonts } from 'pdf-lib'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_PARSE_LIMITS, type ParseLimits, type PdfFacts } from '../parsed.ts'
import { parsePdf } from './pdf.ts'

let tmpDir: string
beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'pdf-test-'))
})
afterEach(async () => {
  vi.restoreAllMocks()
  await rm(tmpDir, { recursive: true, force: true })
})

function parse(bytes: Uint8Array, limits: Partial<ParseLimits> = {}, chunkSize = 64 * 1024) {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(Buffer.from(bytes.subarray(at, at + chunkSize)))
  const source = Readable.from(chunks)
  return parsePdf({ kind: 'pdf', mediaType: 'application/pdf', source, size: bytes.length, filename: 'report.pdf', limits: { ...DEFAULT_PARSE_LIMITS, ...limits }, tmpDir })
}

/** A PDF written by pdf-lib: metadata set, two lines of text per page. */
async function makePdf(pages: number, options: { objectStreams?: boolean } = {}): Promise<Buffer> {
  const doc = await PDFDocument.create()
  doc.setTitle('Quarterly report')
  doc.setAuthor('Ada Lovelace')
  doc.setSubject('Sales')
  doc.setCreator('Report builder')
  doc.setProducer('pdf-lib test')
  doc.setCreationDate(new Date('2024-03-05T10:20:30Z'))
  doc.setModificationDate(new Date('2024-04-01T08:00:00Z'))
  const font = await doc.embedFont(StandardFonts.Helvetica)
  for (let i = 1; i <= pages; i++) {
    const page = doc.addPage([300, 300])
    page.drawText(`Page ${i} summary`, { x: 20, y: 250, font, size: 12 })
    page.drawText('Revenue grew', { x: 20, y: 230, font, size: 12 })
  }
  return Buffer.from(await doc.save({ useObjectStreams: options.objectStreams ?? false }))
}

let threePages: Buffer
beforeAll(async () => {
  threePages = await makePdf(3)
})

describe('parsePdf', () => {
  it('reads metadata, dates and the text of every page', async () => {
    const out = await parse(threePages)
    expect(out.format).toBe('PDF')
    expect(out.facts).toEqual({
      kind: 'pdf',
      pages: 3,
      title: 'Quarterly report',
      author: 'Ada Lovelace',
      subject: 'Sales',
      creator: 'Report builder',
      producer: 'pdf-lib test',
      createdAt: '2024-03-05T10:20:30.000Z',
      modifiedAt: '2024-04-01T08:00:00.000Z',
      textCharacters: 81,
    } satisfies PdfFacts)
    expect(out.sections).toEqual([1, 2, 3].map((n) => ({ title: `page ${n}`, text: `Page ${n} summary\nRevenue grew` })))
    expect(out.textTruncated).toBe(false)
    expect(out.partial).toBeUndefined()
    expect(out.notes).toEqual([])
  })

  it('prints nothing while parsing', async () => {
    const writes = [vi.spyOn(process.stdout, 'write'), vi.spyOn(process.stderr, 'write')]
    const logs = (['log', 'warn', 'error', 'info'] as const).map((method) => vi.spyOn(console, method))
    await parse(threePages)
    await expect(parse(Buffer.from('%PDF-1.7\n' + 'garbage '.repeat(500)))).rejects.toThrow()
    for (const spy of [...writes, ...logs]) expect(spy).not.toHaveBeenCalled()
  })

  it('stops extracting text at maxTextBytes', async () => {
    const out = await parse(await makePdf(50), { maxTextBytes: 60 })
    // "Page 1 summary\nRevenue grew" is 27 bytes: two pages and 6 bytes of the third.
    expect(out.sections).toEqual([
      { title: 'page 1', text: 'Page 1 summary\nRevenue grew' },
      { title: 'page 2', text: 'Page 2 summary\nRevenue grew' },
      { title: 'page 3', text: 'Page 3' },
    ])
    expect(out.textTruncated).toBe(true)
    expect(out.facts).toMatchObject({ pages: 50, textCharacters: 60 })
  })

  it('refuses an empty file', async () => {
    await expect(parse(Buffer.alloc(0))).rejects.toMatchObject({ code: 'corrupt_file', message: 'the file is empty, not a PDF' })
  })

  it('refuses PNG bytes without starting pdf.js', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000280000001e0802000000', 'hex')
    await expect(parse(png)).rejects.toMatchObject({ code: 'corrupt_file', message: 'the file is not a PDF: it has no %PDF- header' })
  })

  it('refuses a %PDF- header followed by garbage, quickly', async () => {
    const started = Date.now()
    await expect(parse(Buffer.from('%PDF-1.7\n' + 'garbage '.repeat(5000)))).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringMatching(/^the PDF is damaged and cannot be opened/),
    })
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('refuses a PDF cut in half, quickly', async () => {
    const started = Date.now()
    await expect(parse(threePages.subarray(0, threePages.length / 2))).rejects.toMatchObject({ code: 'corrupt_file' })
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('recovers a PDF whose startxref offset and xref table are broken', async () => {
    const text = threePages.toString('latin1')
    const broken = text.replace(/startxref\s+\d+/, 'startxref\n999999').replace(/xref\n0 (\d+)\n[\s\S]*?trailer/, 'xref\n0 $1\nnot a table\ntrailer')
    expect(broken).not.toBe(text)
    const out = await parse(Buffer.from(broken, 'latin1'))
    expect(out.facts).toMatchObject({ pages: 3, title: 'Quarterly report', textCharacters: 81 })
  })

  it('refuses a PDF that needs a password', async () => {
    const text = threePages.toString('latin1')
    const encrypted = text.replace('/Root', '/Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >>\n/Root')
    await expect(parse(Buffer.from(encrypted, 'latin1'))).rejects.toMatchObject({
      code: 'encrypted_pdf',
      message: 'the PDF is encrypted with a password, so it cannot be read',
    })
  })

  it('reads only the page count of a PDF over wholeFileBytes, tokens split across chunks', async () => {
    const pdf = await makePdf(12)
    const out = await parse(pdf, { wholeFileBytes: 1000 }, 7)
    expect(out.facts).toEqual({ kind: 'pdf', pages: 12, textCharacters: 0 })
    expect(out.partial?.reason).toMatch(/^the file is [\d.]+ KiB, over the 1000 bytes read in full for PDF: only its page count was read$/)
    expect(out.sections).toEqual([])
  })

  it('counts page objects of an over-cap PDF whose page tree has no /Count', async () => {
    const pdf = (await makePdf(4)).toString('latin1').replace(/\/Count \d+/, '/Kount 4')
    const out = await parse(Buffer.from(pdf, 'latin1'), { wholeFileBytes: 1000 }, 1000)
    expect(out.facts).toMatchObject({ pages: 4 })
  })

  it('says the page count is unknown when an over-cap PDF keeps its page tree in object streams', async () => {
    const out = await parse(await makePdf(5, { objectStreams: true }), { wholeFileBytes: 1000 })
    expect(out.facts).toMatchObject({ pages: null })
    expect(out.partial?.reason).toMatch(/its page count could not be found without loading it$/)
  })

  it('refuses an over-cap file that is not a PDF', async () => {
    await expect(parse(Buffer.alloc(5000, 'x'), { wholeFileBytes: 1000 })).rejects.toMatchObject({ code: 'corrupt_file' })
  })
})
