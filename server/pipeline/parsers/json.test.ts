import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_PARSE_LIMITS, type JsonFacts, type ParseLimits } from '../parsed.ts'
import { parseJson } from './json.ts'

let tmpDir: string
beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'json-test-'))
})
afterEach(async () => {
  await rm(tmpDir, { recursive: true, force: true })
})

function parse(content: Buffer | string | (Buffer | string)[], kind: 'json' | 'ndjson' = 'json', limits: Partial<ParseLimits> = {}) {
  const chunks = (Array.isArray(content) ? content : [content]).map((chunk) => Buffer.from(chunk))
  const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
  const source = Readable.from(chunks)
  return parseJson({ kind, mediaType: 'application/json', source, size, filename: `data.${kind}`, limits: { ...DEFAULT_PARSE_LIMITS, ...limits }, tmpDir })
}

const PNG_BYTES = Buffer.from('89504e470d0a1a0a0000000d49484452000000280000001e0802000000', 'hex')

describe('parseJson on JSON documents', () => {
  const people = [
    { id: 1, name: 'Ada', score: 9.5, tags: ['math'] },
    { id: 2, name: 'Grace', score: 10, retired: true },
    { id: 3, name: null, address: { city: 'Paris' } },
  ]

  it('describes an array of records: count, schema with types and key counts, depth', async () => {
    const out = await parse(JSON.stringify(people))
    expect(out.format).toBe('JSON')
    expect(out.facts).toEqual({
      kind: 'json',
      shape: 'array',
      records: 3,
      depth: 3,
      schema: [
        { key: 'id', types: ['integer'], count: 3 },
        { key: 'name', types: ['string', 'null'], count: 3 },
        { key: 'score', types: ['number', 'integer'], count: 2 },
        { key: 'tags', types: ['array'], count: 1 },
        { key: 'retired', types: ['boolean'], count: 1 },
        { key: 'address', types: ['object'], count: 1 },
      ],
    } satisfies JsonFacts)
    expect(out.sections).toEqual([{ title: 'document', text: JSON.stringify(people, null, 2) }])
    expect(out.textTruncated).toBe(false)
  })

  it('describes a top-level object by its keys, and reads a BOM', async () => {
    const out = await parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"version": "1.0", "count": 2, "items": []}')]))
    expect(out.facts).toMatchObject({ shape: 'object', records: 3, depth: 2 })
    expect((out.facts as JsonFacts).schema.map((entry) => entry.key)).toEqual(['version', 'count', 'items'])
  })

  it('describes a scalar document with no records and depth 0', async () => {
    const out = await parse(' 42 ')
    expect(out.facts).toEqual({ kind: 'json', shape: 'integer', records: null, schema: [], depth: 0 })
  })

  it('lists a __proto__ key in the schema without touching any prototype', async () => {
    const out = await parse('[{"__proto__": {"polluted": true}, "constructor": 1}]')
    expect((out.facts as JsonFacts).schema).toEqual([
      { key: '__proto__', types: ['object'], count: 1 },
      { key: 'constructor', types: ['integer'], count: 1 },
    ])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses an empty file as invalid JSON', async () => {
    await expect(parse('')).rejects.toMatchObject({ code: 'invalid_json', message: 'the file is empty, and an empty file is not JSON' })
  })

  it('refuses a truncated document, naming the line and column', async () => {
    await expect(parse('[\n  {"a": 1},\n  {"a": 2')).rejects.toMatchObject({
      code: 'invalid_json',
      message: "the file is not valid JSON: Expected ',' or '}' after property value at line 3, column 10",
    })
  })

  it('names the position of an unexpected token in a long document', async () => {
    await expect(parse(`[${'1,'.repeat(100)}oops]`)).rejects.toMatchObject({
      code: 'invalid_json',
      message: "the file is not valid JSON: Unexpected token 'o' at line 1, column 202",
    })
  })

  it('refuses PNG bytes as invalid JSON', async () => {
    await expect(parse(PNG_BYTES)).rejects.toMatchObject({ code: 'invalid_json' })
  })

  it('refuses JSON nested 100,000 levels deep before parsing it', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    await expect(parse(deep)).rejects.toMatchObject({ code: 'json_too_deep', message: 'the JSON is nested more than 512 levels deep, the most accepted' })
  })

  it('ignores brackets inside strings, escaped quotes included, when measuring depth', async () => {
    const out = await parse(JSON.stringify([{ text: '[[[[ "\\" {{{{' }]), 'json', { maxJsonDepth: 2 })
    expect(out.facts).toMatchObject({ depth: 2 })
  })

  it('caps the re-indented text at maxTextBytes', async () => {
    const out = await parse(JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ i, word: 'é'.repeat(20) }))), 'json', { maxTextBytes: 1001 })
    expect(out.textTruncated).toBe(true)
    expect(Buffer.byteLength(out.sections[0]!.text)).toBeLessThanOrEqual(1001)
    expect(out.sections[0]!.text.startsWith('[\n  {\n    "i": 0,\n    "word": "éé')).toBe(true)
    expect(out.facts).toMatchObject({ records: 500 })
  })

  it('reads only the top-level shape of a file over wholeFileBytes', async () => {
    const body = Buffer.from(`\n  {"big": [${'1,'.repeat(100_000)}1]}`)
    let pulled = 0
    const source = Readable.from(
      (function* () {
        for (let at = 0; at < body.length; at += 1024) {
          pulled++
          yield body.subarray(at, at + 1024)
        }
      })(),
    )
    const limits = { ...DEFAULT_PARSE_LIMITS, wholeFileBytes: 1000 }
    const out = await parseJson({ kind: 'json', mediaType: 'application/json', source, size: body.length, filename: 'big.json', limits, tmpDir })
    expect(out.partial).toEqual({ reason: 'the file is 195.3 KiB, over the 1000 bytes read in full for JSON: only its top-level shape was read' })
    expect(out.facts).toEqual({ kind: 'json', shape: 'object', records: null, schema: [], depth: 1 })
    expect(out.sections).toEqual([])
    expect(pulled).toBeLessThan(100)
  })
})

describe('parseJson on NDJSON', () => {
  it('merges the schema across lines and counts bad lines without failing', async () => {
    const lines = ['{"event":"login","user":1}', '', '{"event":"logout","user":"u2","ms":12.5}', 'not json', '{"event":"login"', '[1,[2]]', '']
    const out = await parse(lines.join('\r\n'), 'ndjson')
    expect(out.format).toBe('NDJSON')
    expect(out.facts).toEqual({
      kind: 'ndjson',
      shape: 'array',
      records: 3,
      depth: 2,
      invalidLines: 2,
      schema: [
        { key: 'event', types: ['string'], count: 2 },
        { key: 'user', types: ['integer', 'string'], count: 2 },
        { key: 'ms', types: ['number'], count: 1 },
      ],
    } satisfies JsonFacts)
    expect(out.notes).toEqual(['2 of 5 lines are not valid JSON (the first is line 4)'])
    expect(out.sections).toEqual([{ title: 'records 1-3', text: [lines[0], lines[2], lines[5]].join('\n') }])
  })

  it('reads an empty NDJSON file as zero records', async () => {
    const out = await parse('', 'ndjson')
    expect(out.facts).toEqual({ kind: 'ndjson', shape: 'array', records: 0, schema: [], depth: 0, invalidLines: 0 })
  })

  it('refuses a file where no line is JSON', async () => {
    await expect(parse('hello\nworld\n', 'ndjson')).rejects.toMatchObject({ code: 'invalid_json' })
  })

  it('refuses PNG bytes as not text', async () => {
    await expect(parse(PNG_BYTES, 'ndjson')).rejects.toMatchObject({ code: 'corrupt_file' })
  })

  it('refuses a line nested deeper than maxJsonDepth', async () => {
    await expect(parse('{"a":1}\n' + '['.repeat(100_000) + ']'.repeat(100_000) + '\n', 'ndjson')).rejects.toMatchObject({ code: 'json_too_deep' })
  })

  it('reads a record split across chunks, multi-byte character included', async () => {
    const bytes = Buffer.from('{"city":"Zürich"}\n{"city":"Köln"}\n')
    const out = await parse([bytes.subarray(0, 12), bytes.subarray(12, 21), bytes.subarray(21)], 'ndjson')
    expect(out.sections[0]?.text).toBe('{"city":"Zürich"}\n{"city":"Köln"}')
    expect(out.facts).toMatchObject({ records: 2, invalidLines: 0 })
  })

  it('refuses an endless line early, without reading the rest of the stream', async () => {
    let pulled = 0
    const chunk = Buffer.alloc(64 * 1024, ' ')
    const source = Readable.from(
      (function* () {
        yield Buffer.from('{"a": "')
        for (let i = 0; i < 10_000; i++) {
          pulled++
          yield chunk
        }
      })(),
    )
    const limits = { ...DEFAULT_PARSE_LIMITS, maxLineBytes: 512 * 1024 }
    const input = { kind: 'ndjson' as const, mediaType: 'application/x-ndjson', source, size: 655_360_007, filename: 'x.ndjson', limits, tmpDir }
    await expect(parseJson(input)).rejects.toMatchObject({ code: 'line_too_long' })
    expect(pulled).toBeLessThan(100)
  })

  it('keeps at most maxTextBytes of records', async () => {
    const out = await parse(Array.from({ length: 100 }, (_, i) => JSON.stringify({ i })).join('\n'), 'ndjson', { maxTextBytes: 50 })
    expect(out.textTruncated).toBe(true)
    expect(out.sections).toEqual([{ title: 'records 1-7', text: '{"i":0}\n{"i":1}\n{"i":2}\n{"i":3}\n{"i":4}\n{"i":5}\n{"' }])
    expect(out.facts).toMatchObject({ records: 100 })
  })
})
