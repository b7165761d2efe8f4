/**
 * The parser contract, run by every kind through the real parser process
 * (detection, parser, limits, IPC): a real-looking file, an empty one, a
 * truncated one, one that lies about its type, and one over each cap. Every
 * case ends with facts (the file would be `ready`) or a ParseFailure with a
 * machine-readable code and a sentence (the file would be `failed`).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import Papa from 'papaparse'
import { PDFDocument } from 'pdf-lib'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as XLSX from 'xlsx'
import { DEFAULT_PARSE_LIMITS, type Parsed, type ParseLimits } from '../server/pipeline/parsed.ts'
import { ParseFailure, parseInSandbox } from '../server/pipeline/parse-process.ts'

type Outcome = { ready: (parsed: Parsed) => void } | { failed: string | RegExp }
type Case = { name: string; bytes: Buffer; filename: string; type?: string; limits?: Partial<ParseLimits>; expect: Outcome }

let tmpRoot: string

async function run(c: Case): Promise<Parsed | ParseFailure> {
  try {
    return await parseInSandbox(
      { source: Readable.from([c.bytes]), size: c.bytes.length, filename: c.filename, declaredType: c.type ?? '', limits: { ...DEFAULT_PARSE_LIMITS, ...c.limits } },
      { timeoutMs: 60_000, memoryBytes: 3 * 1024 ** 3, tmpRoot },
    )
  } catch (error) {
    if (error instanceof ParseFailure) return error
    throw error
  }
}

const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2))

async function fixtures(): Promise<Record<string, Case[]>> {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#369' } }).png().toBuffer()
  const csv = Buffer.from(Papa.unparse([['city', 'population', 'founded'], ['Lyon', 522250, '1989-01-01'], ['Nantes', 320732, '1990-06-30'], ['Lille, Nord', 236710, '1991-12-31']]))
  const wb = XLSX.utils.book_new()
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['sku', 'qty'], ['A-1', 3], ['B-2', 5]]), 'Stock')
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['note'], ['checked']]), 'Notes')
  const xlsx = XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer
  const json = Buffer.from(JSON.stringify([{ id: 1, name: 'a', tags: ['x'] }, { id: 2, name: 'b', tags: [] }, { id: 3, name: 'c', extra: { deep: true } }]))
  const ndjson = Buffer.from('{"t":1,"msg":"start"}\n{"t":2,"msg":"tick"}\n{"t":3,"msg":"stop"}\n')
  const markdown = Buffer.from('---\ntitle: Guide\ntags: [a, b]\n---\n# Install\n\nRun it.\n\n## Usage\n\n```\n# not a heading\n```\n')
  const text = Buffer.from('First line of notes\nsecond line with more words\nthird\n')
  const doc = await PDFDocument.create()
  doc.setTitle('Quarterly report')
  doc.setAuthor('Finance')
  for (let i = 1; i <= 3; i++) doc.addPage().drawText(`Page ${i} text`, { x: 50, y: 700 })
  const pdf = Buffer.from(await doc.save({ useObjectStreams: false }))
  const long = Buffer.from(`a,b\n${'x'.repeat(4096)},1\n`)

  return {
    csv: [
      { name: 'real', bytes: csv, filename: 'cities.csv', expect: { ready: (p) => expect(p.facts).toMatchObject({ kind: 'csv', rows: 3, columns: 3, columnNames: ['city', 'population', 'founded'] }) } },
      { name: 'empty', bytes: Buffer.alloc(0), filename: 'empty.csv', expect: { ready: (p) => expect(p.facts).toMatchObject({ rows: 0, columns: 0 }) } },
      { name: 'truncated', bytes: Buffer.from('a,b\n1,"unterminated'), filename: 'cut.csv', expect: { ready: (p) => expect(p.facts).toMatchObject({ kind: 'csv', columns: 2 }) } },
      { name: 'lying', bytes: png, filename: 'cities.csv', expect: { failed: 'type_mismatch' } },
      { name: 'over the line cap', bytes: long, filename: 'long.csv', limits: { maxLineBytes: 1024 }, expect: { failed: 'line_too_long' } },
    ],
    spreadsheet: [
      { name: 'real', bytes: xlsx, filename: 'stock.xlsx', expect: { ready: (p) => expect(p.facts).toMatchObject({ kind: 'spreadsheet', sheetNames: ['Stock', 'Notes'], sheets: [{ name: 'Stock', rows: 2, columns: 2 }, { name: 'Notes' }] }) } },
      { name: 'empty', bytes: Buffer.alloc(0), filename: 'empty.xlsx', expect: { failed: 'corrupt_file' } },
      { name: 'truncated', bytes: half(xlsx), filename: 'cut.xlsx', expect: { failed: /^(corrupt_file|parse_failed)$/ } },
      { name: 'lying', bytes: text, filename: 'stock.xlsx', expect: { failed: 'type_mismatch' } },
      { name: 'over the whole-file cap', bytes: xlsx, filename: 'big.xlsx', limits: { wholeFileBytes: 1024 }, expect: { ready: (p) => expect([p.facts, p.partial]).toMatchObject([{ sheetNames: ['Stock', 'Notes'], sheets: [] }, { reason: expect.any(String) }]) } },
      { name: 'over the inflate cap', bytes: xlsx, filename: 'bomb.xlsx', limits: { maxInflatedBytes: 1024 }, expect: { failed: 'zip_bomb' } },
    ],
    json: [
      { name: 'real', bytes: json, filename: 'items.json', expect: { ready: (p) => expect(p.facts).toMatchObject({ kind: 'json', shape: 'array', records: 3, depth: 3 }) } },
      { name: 'empty', bytes: Buffer.alloc(0), filename: 'empty.json', expect: { failed: 'invalid_json' } },
      { name: 'truncated', bytes: half(json), filename: 'cut.json', expect: { failed: 'invalid_json' } },
      { name: 'lying', bytes: png, filename: 'items.json', expect: { failed: 'type_mismatch' } },
      { name: 'over the whole-file cap', bytes: json, filename: 'big.json', limits: { wholeFileBytes: 16 }, expect: { ready: (p) => expect([p.facts.kind, p.partial]).toMatchObject(['json', { reason: expect.any(String) }]) } },
      { name: 'over the depth cap', bytes: json, filename: 'deep.json', limits: { maxJsonDepth: 2 }, expect: { failed: 'json_too_deep' } },
    ],
    ndjson: [
      { name: 'real', bytes: ndjson, filename: 'log.ndjson', expect: { ready: (p) => expect(p.facts).toMatchObject({ kind: 'ndjson', records: 3 }) } },
      { name: 'empty', bytes: Buffer.alloc(0), filename: 'log.ndjson', expect: { ready: (p) => expect(p.facts).toMatchObject({ records: 0 }) } },
      { name: 'truncated', bytes: ndjson.subarray(0, ndjson.length - 8), filename: 'cut.ndjson', expect: { ready: (p) => expect(p.facts).toMatchObject({ records: 2, invalidLines: 1 }) } },
      { name: 'lying', bytes: pdf, filename: 'log.ndjson', expect: { failed: 'type_mismatch' } },
      { name: 'over the line cap', bytes: Buffer.from(`{"a":"${'x'.repeat(4096)}"}\n`), filename: 'long.ndjson', limits: { maxLineBytes: 1024 }, expect: { failed: 'line_too_long' } },
    ],
    markdown: [
      { name: 'real', bytes: markdown, filename: 'guide.md', expect: { ready: (p) => expect(p.facts).toMatchObject({ kind: 'markdown', headings: [{ level: 1, text: 'Install' }, { level: 2, text: 'Usage' }], frontMatter: { title: 'Guide', tags: ['a', 'b'] } }) } },
      { name: 'empty', bytes: Buffer.alloc(0), filename: 'empty.md', expect: { ready: (p) => expect(p.facts).toMatchObject({ lines: 0, words: 0 }) } },
      { name: 'truncated', bytes: Buffer.from('# Caf\xc3', 'latin1'), filename: 'cut.md', expect: { ready: (p) => expect(p.facts.kind).toBe('markdown') } },
      { name: 'lying', bytes: pdf, filename: 'guide.md', expect: { failed: 'type_mismatch' } },
      { name: 'over the line cap', bytes: Buffer.from(`# ${'x'.repeat(4096)}\n`), filename: 'long.md', limits: { maxLineBytes: 1024 }, expect: { failed: 'line_too_long' } },
    ],
    text: [
      { name: 'real', bytes: text, filename: 'notes.txt', expect: { ready: (p) => expect(p.facts).toMatchObject({ kind: 'text', lines: 3, words: 10, title: 'First line of notes' }) } },
      { name: 'empty', bytes: Buffer.alloc(0), filename: 'empty.txt', expect: { ready: (p) => expect(p.facts).toMatchObject({ lines: 0 }) } },
      { name: 'truncated', bytes: text.subarray(0, 10), filename: 'cut.txt', expect: { ready: (p) => expect(p.facts).toMatchObject({ lines: 1, words: 2 }) } },
      { name: 'lying', bytes: png, filename: 'notes.txt', expect: { failed: 'type_mismatch' } },
      { name: 'over the text cap', bytes: Buffer.from('word '.repeat(10_000)), filename: 'many.txt', limits: { maxTextBytes: 1000 }, expect: { ready: (p) => expect([p.textTruncated, p.facts]).toMatchObject([true, { words: 10_000 }]) } },
    ],
    pdf: [
      { name: 'real', bytes: pdf, filename: 'report.pdf', expect: { ready: (p) => expect([p.facts, p.sections.map((s) => s.title)]).toMatchObject([{ kind: 'pdf', pages: 3, title: 'Quarterly report', author: 'Finance' }, ['page 1', 'page 2', 'page 3']]) } },
      { name: 'empty', bytes: Buffer.alloc(0), filename: 'empty.pdf', expect: { failed: 'corrupt_file' } },
      { name: 'truncated', bytes: half(pdf), filename: 'cut.pdf', expect: { failed: 'corrupt_file' } },
      { name: 'lying', bytes: text, filename: 'report.pdf', expect: { failed: 'type_mismatch' } },
      { name: 'over the whole-file cap', bytes: pdf, filename: 'big.pdf', limits: { wholeFileBytes: 1024 }, expect: { ready: (p) => expect([p.facts, p.partial]).toMatchObject([{ pages: 3 }, { reason: expect.any(String) }]) } },
    ],
    image: [
      { name: 'real', bytes: png, filename: 'tile.png', expect: { ready: (p) => expect(p.facts).toMatchObject({ kind: 'image', format: 'png', width: 64, height: 48 }) } },
      { name: 'empty', bytes: Buffer.alloc(0), filename: 'empty.png', expect: { failed: 'corrupt_file' } },
      { name: 'truncated', bytes: png.subarray(0, 20), filename: 'cut.png', expect: { failed: 'corrupt_file' } },
      { name: 'lying', bytes: text, filename: 'tile.png', expect: { failed: 'type_mismatch' } },
      { name: 'over the pixel cap', bytes: png, filename: 'wide.png', limits: { maxImagePixels: 1000 }, expect: { failed: 'image_too_large' } },
    ],
  }
}

const table = await fixtures()

beforeAll(async () => {
  tmpRoot = await mkdtemp(path.join(os.tmpdir(), 'filedock-contract-'))
})
afterAll(async () => {
  await rm(tmpRoot, { recursive: true, force: true })
})

describe.each(Object.entries(table))('the %s parser, in the parser process', (_kind, cases) => {
  it.each(cases)('$name', async (c) => {
    const result = await run(c)
    if ('ready' in c.expect) {
      if (result instanceof ParseFailure) throw new Error(`expected facts, got ${result.code}: ${result.message}`)
      c.expect.ready(result)
      expect(result.size).toBe(c.bytes.length)
    } else {
      if (!(result instanceof ParseFailure)) throw new Error(`expected ${String(c.expect.failed)}, got facts ${JSON.stringify(result.facts)}`)
      expect(result.code).toMatch(typeof c.expect.failed === 'string' ? new RegExp(`^${c.expect.failed}$`) : c.expect.failed)
      expect(result.retryable).toBe(false)
      expect(result.message.length).toBeGreaterThan(10)
    }
  })
})

describe('the parser process itself', () => {
  it('is killed at its time limit when a parse does not end', async () => {
    const endless = new Readable({ read() {} }) // never ends: the child waits for bytes forever
    endless.push('a,b\n1,2\n')
    const started = Date.now()
    const failure = await parseInSandbox({ source: endless, size: 8, filename: 'slow.csv', declaredType: 'text/csv', limits: DEFAULT_PARSE_LIMITS }, { timeoutMs: 1500, memoryBytes: 3 * 1024 ** 3, tmpRoot }).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(ParseFailure)
    expect(failure).toMatchObject({ code: 'parse_timeout', retryable: false })
    // The limit is the timeout plus a second per 8 MiB declared: 2.5 s here.
    expect(Date.now() - started).toBeLessThan(30_000)
  })

  it('fails a file that needs more memory than the OS limit allows, and the server process is untouched', async () => {
    const rssBefore = process.memoryUsage().rss
    const chunk = Buffer.from('1,'.repeat(512 * 1024)) // 1 MiB of a JSON array's body
    const body = Readable.from((function* () {
      yield Buffer.from('[')
      for (let i = 0; i < 700; i++) yield chunk
      yield Buffer.from('1]')
    })())
    const failure = await parseInSandbox(
      { source: body, size: 700 * chunk.length + 3, filename: 'huge.json', declaredType: 'application/json', limits: { ...DEFAULT_PARSE_LIMITS, wholeFileBytes: 1024 ** 3 } },
      { timeoutMs: 120_000, memoryBytes: 1536 * 1024 * 1024, tmpRoot },
    ).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(ParseFailure)
    expect((failure as ParseFailure).code).toMatch(/^(out_of_memory|too_large)$/)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024)
  })

  it('leaves no temp directory behind', async () => {
    const { readdir } = await import('node:fs/promises')
    expect(await readdir(tmpRoot)).toEqual([])
  })
})
