import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import Papa from 'papaparse'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PARSE_LIMITS, ParseError, type CsvFacts, type ParseLimits } from '../parsed.ts'
import { parseCsv } from './csv.ts'

let tmpDir: string
beforeAll(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'csv-test-'))
})
afterAll(async () => {
  await rm(tmpDir, { recursive: true, force: true })
})

type Options = { kind?: 'csv' | 'tsv'; limits?: Partial<ParseLimits>; chunks?: 'tiny' | number }

function parse(content: string | Buffer, options: Options = {}) {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content
  return parseCsv({
    kind: options.kind ?? 'csv',
    mediaType: 'text/csv',
    source: Readable.from(split(bytes, options.chunks)),
    size: bytes.length,
    filename: 'data.csv',
    limits: { ...DEFAULT_PARSE_LIMITS, ...options.limits },
    tmpDir,
  })
}

/** Cuts bytes into chunks: fixed-size, or 'tiny' (1 to 7 bytes, so multi-byte characters straddle chunks). */
function split(bytes: Buffer, chunks: Options['chunks'] = 64 * 1024): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const size = chunks === 'tiny' ? 1 + (k % 7) : chunks
    out.push(bytes.subarray(i, i + size))
    i += size
  }
  return out
}

function facts(output: Awaited<ReturnType<typeof parseCsv>>): CsvFacts {
  return output.facts as CsvFacts
}

async function parseError(promise: Promise<unknown>): Promise<ParseError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(ParseError)
  return error as ParseError
}

describe('parseCsv', () => {
  it('reads a real-looking file: header, types, stats, nulls and one section', async () => {
    const csv = 'id,name,amount,joined,active\n1,Ana,10.5,2024-01-05,true\n2,Bo,,2023-12-31,false\n3,Cy,-2,2024-02-29,true\n4,Di,NA,2024-01-01,false\n'
    const output = await parse(csv)
    expect(output.format).toBe('CSV')
    expect(output.notes).toEqual([])
    expect(output.partial).toBeUndefined()
    expect(facts(output)).toEqual({
      kind: 'csv', delimiter: ',', encoding: 'utf-8', bom: false, hasHeader: true, rows: 4, columns: 5, raggedRows: 0, sampled: false,
      columnNames: ['id', 'name', 'amount', 'joined', 'active'],
      columnFacts: [
        { name: 'id', type: 'integer', nulls: 0, min: 1, max: 4, mean: 2.5, distinct: 4, samples: ['1', '2', '3', '4'] },
        { name: 'name', type: 'text', nulls: 0, distinct: 4, samples: ['Ana', 'Bo', 'Cy', 'Di'] },
        { name: 'amount', type: 'number', nulls: 2, min: -2, max: 10.5, mean: 4.25, distinct: 2, samples: ['10.5', '-2'] },
        { name: 'joined', type: 'date', nulls: 0, earliest: '2023-12-31', latest: '2024-02-29', distinct: 4, samples: ['2024-01-05', '2023-12-31', '2024-02-29', '2024-01-01'] },
        { name: 'active', type: 'boolean', nulls: 0, distinct: 2, samples: ['true', 'false'] },
      ],
    })
    expect(output.sections).toEqual([{ title: 'rows 1-4', text: csv.trimEnd() }])
    expect(output.textTruncated).toBe(false)
  })

  it('returns an empty table for an empty file', async () => {
    const output = await parse('')
    expect(facts(output)).toMatchObject({ rows: 0, columns: 0, hasHeader: false, columnNames: [], columnFacts: [], raggedRows: 0 })
    expect(output.sections).toEqual([])
  })

  it('reads a header-only file as named columns over no rows', async () => {
    const output = await parse('id,name\n')
    expect(facts(output)).toMatchObject({ hasHeader: true, rows: 0, columns: 2, columnNames: ['id', 'name'] })
    expect(facts(output).columnFacts.map((c) => c.type)).toEqual(['empty', 'empty'])
  })

  it('passes a failing source on as it is, not as a corrupt file', async () => {
    async function* failing() {
      yield Buffer.from('a,b\n1,2\n'.repeat(20_000))
      throw new Error('connection reset')
    }
    const input = { kind: 'csv' as const, mediaType: 'text/csv', source: Readable.from(failing()), size: 1e6, filename: 'x.csv', limits: DEFAULT_PARSE_LIMITS, tmpDir }
    const error = await parseCsv(input).then(() => undefined, (e: unknown) => e)
    expect(error).not.toBeInstanceOf(ParseError)
    expect((error as Error).message).toBe('connection reset')
  })

  it('reads a file truncated mid-record, counting the short record as ragged', async () => {
    const output = await parse('a,b,c\n1,2,3\n4,5')
    expect(facts(output)).toMatchObject({ rows: 2, raggedRows: 1 })
    expect(output.notes).toContain("1 ragged row: a field count that differs from the header's")
  })

  it('refuses PNG bytes and random binary as corrupt, not CSV', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex')
    expect((await parseError(parse(png))).code).toBe('corrupt_file')
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251))
    expect((await parseError(parse(random))).code).toBe('corrupt_file')
  })

  it('refuses an unterminated quote once the record passes maxLineBytes, without reading the whole stream', async () => {
    let sent = 0
    async function* endless() {
      yield Buffer.from('a,b\n1,"')
      for (;;) {
        sent += 4096
        yield Buffer.alloc(4096, 'x')
      }
    }
    const limits = { ...DEFAULT_PARSE_LIMITS, maxLineBytes: 100_000 }
    const input = { kind: 'csv' as const, mediaType: 'text/csv', source: Readable.from(endless()), size: 1e12, filename: 'x.csv', limits, tmpDir }
    const error = await parseError(parseCsv(input))
    expect(error.code).toBe('line_too_long')
    expect(error.message).toMatch(/0\.1 MiB limit/)
    expect(sent).toBeLessThan(400_000)
  })

  it('refuses a complete record longer than maxLineBytes that arrives in one chunk', async () => {
    const csv = `a,b\n1,${'x'.repeat(5000)}\n2,3\n`
    expect((await parseError(parse(csv, { limits: { maxLineBytes: 1000 }, chunks: 1e6 }))).code).toBe('line_too_long')
    expect(facts(await parse(csv, { limits: { maxLineBytes: 6000 } })).rows).toBe(2)
  })

  it('keeps delimiters, newlines and doubled quotes inside quoted fields', async () => {
    const output = await parse('name,quote\n"Smith, J.","He said ""hi""\nthen left"\nDoe,plain\n')
    expect(facts(output)).toMatchObject({ rows: 2, columns: 2, raggedRows: 0 })
    expect(facts(output).columnFacts[1]!.samples).toEqual(['He said "hi"\nthen left', 'plain'])
    expect(output.sections[0]!.text).toBe('name,quote\n"Smith, J.","He said ""hi""\nthen left"\nDoe,plain')
  })

  it('drops a UTF-8 BOM from the first column name and reports it', async () => {
    const output = await parse('\uFEFFid,name\n1,a\n')
    expect(facts(output)).toMatchObject({ bom: true, encoding: 'utf-8', columnNames: ['id', 'name'] })
  })

  it('decodes Latin-1 bytes as windows-1252', async () => {
    const bytes = Buffer.concat([Buffer.from('city,n\nCaf'), Buffer.from([0xe9]), Buffer.from(',1\n')])
    const output = await parse(bytes)
    expect(facts(output).encoding).toBe('windows-1252')
    expect(facts(output).columnFacts[0]!.samples).toEqual(['Café'])
    expect(output.notes).toContain('decoded as windows-1252 (Latin-1): the bytes are not valid UTF-8')
  })

  it('decodes UTF-16LE with a BOM', async () => {
    const output = await parse(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,é\n', 'utf16le')]))
    expect(facts(output)).toMatchObject({ encoding: 'utf-16le', bom: true, rows: 1, columnNames: ['a', 'b'] })
    expect(facts(output).columnFacts[1]!.samples).toEqual(['é'])
  })

  it('reads CRLF line endings, even when a CR and its LF arrive in different chunks', async () => {
    const output = await parse('a,b\r\n1,x\r\n2,y\r\n', { chunks: 'tiny' })
    expect(facts(output)).toMatchObject({ rows: 2, columnNames: ['a', 'b'] })
    expect(facts(output).columnFacts[1]!.samples).toEqual(['x', 'y'])
  })

  it('trims stray CRs when CRLF and LF lines are mixed', async () => {
    const output = await parse('a,b\r\n1,x\n2,y\r\n')
    expect(facts(output).columnFacts[1]!.samples).toEqual(['x', 'y'])
  })

  it('counts ragged rows and profiles the extra columns', async () => {
    const output = await parse('a,b\n1,2\n3\n4,5,6\n7,8\n')
    expect(facts(output)).toMatchObject({ rows: 4, columns: 3, raggedRows: 2, columnNames: ['a', 'b', 'column_3'] })
    expect(facts(output).columnFacts.map((c) => c.nulls)).toEqual([0, 1, 3])
    expect(output.notes).toContain("2 ragged rows: a field count that differs from the header's")
  })

  it('detects a semicolon delimiter with decimal commas in the values', async () => {
    const output = await parse('name;price\nA;1,5\nB;2,25\n')
    expect(facts(output)).toMatchObject({ delimiter: ';', columns: 2, columnNames: ['name', 'price'] })
    expect(output.sections[0]!.text).toBe('name;price\nA;1,5\nB;2,25')
  })

  it('reads TSV with a tab delimiter', async () => {
    const output = await parse('x\ty\n1\t2\n3\t4\n', { kind: 'tsv' })
    expect(output.format).toBe('TSV')
    expect(facts(output)).toMatchObject({ kind: 'tsv', delimiter: '\t', rows: 2, columnNames: ['x', 'y'] })
    expect(facts(output).columnFacts[1]).toMatchObject({ type: 'integer', min: 2, max: 4 })
  })

  it('reads a header-less numeric file, every line a data row', async () => {
    const output = await parse('1,2.5\n3,4.5\n5,6.5\n')
    expect(facts(output)).toMatchObject({ hasHeader: false, rows: 3, columnNames: ['column_1', 'column_2'] })
    expect(facts(output).columnFacts[0]).toMatchObject({ type: 'integer', min: 1, max: 5, mean: 3 })
    expect(output.sections[0]!.text).toBe('1,2.5\n3,4.5\n5,6.5')
  })

  it('joins multi-byte characters split across tiny chunks', async () => {
    const csv = 'word,n\nZürich,1\n日本語,2\nrocket 🚀,3\n'
    const output = await parse(csv, { chunks: 'tiny' })
    expect(facts(output).columnFacts[0]!.samples).toEqual(['Zürich', '日本語', 'rocket 🚀'])
    expect(output.sections[0]!.text).toBe(csv.trimEnd())
  })

  it('decodes multi-byte characters that straddle the 64 KiB pieces the parser reads', async () => {
    // Nearly every byte is inside a multi-byte character, so every piece boundary splits one.
    const rows = Array.from({ length: 8000 }, (_, i) => `${i},日本語日本語日本語日本語,🚀🚀🚀🚀`)
    const csv = `n,word,icon\n${rows.join('\n')}\n`
    expect(Buffer.byteLength(csv)).toBeGreaterThan(6 * 64 * 1024)
    const output = await parse(csv, { chunks: 'tiny' })
    const table = facts(output)
    expect(table.rows).toBe(8000)
    expect(table.columnFacts[1]).toMatchObject({ distinct: 1, samples: ['日本語日本語日本語日本語'] })
    expect(table.columnFacts[2]).toMatchObject({ distinct: 1, samples: ['🚀🚀🚀🚀'] })
    expect(output.sections.map((s) => s.text).join('\n')).not.toContain('\uFFFD')
  })

  it('writes sections of 500 rows with the header on each', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => [String(i + 1), `name ${i + 1}`])
    const output = await parse(Papa.unparse([['n', 'name'], ...rows]))
    expect(output.sections.map((s) => s.title)).toEqual(['rows 1-500', 'rows 501-1000', 'rows 1001-1200'])
    expect(output.sections[1]!.text.split('\n')[0]).toBe('n,name')
    expect(output.sections[1]!.text.split('\n')[1]).toBe('501,name 501')
    expect(output.textTruncated).toBe(false)
  })

  it('stops the text at maxTextBytes at a row boundary and says so', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => [String(i + 1), `name ${i + 1}`])
    const output = await parse(Papa.unparse([['n', 'name'], ...rows]), { limits: { maxTextBytes: 10_000 } })
    const bytes = output.sections.reduce((sum, s) => sum + Buffer.byteLength(s.text), 0)
    expect(output.textTruncated).toBe(true)
    expect(bytes).toBeLessThanOrEqual(10_000)
    expect(bytes).toBeGreaterThan(9_000)
    const last = output.sections.at(-1)!
    expect(last.text.split('\n').at(-1)).toBe(`${last.title.split('-')[1]},name ${last.title.split('-')[1]}`)
    expect(facts(output).rows).toBe(1200)
  })
})
