import { describe, expect, it } from 'vitest'
import { messageOf } from './api.ts'
import { keyFacts } from './facts.ts'
import { listedBefore } from './file-json.ts'

describe('keyFacts: the facts shown in the file list', () => {
  it('shows the size of a CSV or TSV table', () => {
    expect(keyFacts({ kind: 'csv', rows: 12_345, columns: 4, hasHeader: true })).toEqual(['12,345 rows × 4 columns'])
    expect(keyFacts({ kind: 'tsv', rows: 1, columns: 1 })).toEqual(['1 row × 1 column'])
  })

  it('shows the sheets of a workbook and the size of the first one', () => {
    const book = { kind: 'spreadsheet', format: 'xlsx', sheetNames: ['Sales', 'Numbers', 'Empty'], sheets: [{ name: 'Sales', rows: 40, columns: 6 }] }
    expect(keyFacts(book)).toEqual(['3 sheets', 'Sales: 40 rows × 6 columns'])
    // Too large to read in full: the names only.
    expect(keyFacts({ kind: 'spreadsheet', format: 'xlsx', sheetNames: ['Only'], sheets: [] })).toEqual(['1 sheet'])
  })

  it('counts the records of JSON and NDJSON, and names a lone value by its shape', () => {
    expect(keyFacts({ kind: 'json', shape: 'array', records: 3, schema: [], depth: 2 })).toEqual(['3 records'])
    expect(keyFacts({ kind: 'json', shape: 'object', records: null, schema: [], depth: 1 })).toEqual(['one object'])
    expect(keyFacts({ kind: 'ndjson', shape: 'array', records: 1, schema: [], depth: 1, invalidLines: 0 })).toEqual(['1 record'])
  })

  it('counts the lines and words of Markdown and text', () => {
    expect(keyFacts({ kind: 'markdown', lines: 120, words: 2_048, headings: 5 })).toEqual(['120 lines', '2,048 words'])
    expect(keyFacts({ kind: 'text', encoding: 'utf-8', lines: 0, words: 0, characters: 0 })).toEqual(['0 lines', '0 words'])
  })

  it('counts the pages of a PDF, and says nothing when the count is unknown', () => {
    expect(keyFacts({ kind: 'pdf', pages: 1, textCharacters: 10 })).toEqual(['1 page'])
    expect(keyFacts({ kind: 'pdf', pages: null, textCharacters: 0 })).toEqual([])
  })

  it('shows the dimensions of an image and its frames when animated', () => {
    expect(keyFacts({ kind: 'image', format: 'png', width: 1920, height: 1080 })).toEqual(['1920 × 1080 px'])
    expect(keyFacts({ kind: 'image', format: 'gif', width: 40, height: 30, frames: 5 })).toEqual(['40 × 30 px', '5 frames'])
    expect(keyFacts({ kind: 'image', format: 'gif', width: 40, height: 30, frames: 1 })).toEqual(['40 × 30 px'])
  })

  it('says when a file was read in part', () => {
    expect(keyFacts({ kind: 'json', shape: 'object', records: null, partial: { reason: 'over the limit' } })).toEqual(['one object', 'read in part'])
  })

  it('shows nothing without metadata or for a kind it does not know', () => {
    expect(keyFacts(null)).toEqual([])
    expect(keyFacts({})).toEqual([])
    expect(keyFacts({ kind: 'other' })).toEqual([])
  })

  const hostile: [string, unknown][] = [
    ['strings for counts', { kind: 'csv', rows: '12', columns: '4' }],
    ['one count missing', { kind: 'tsv', rows: 3 }],
    ['NaN and Infinity', { kind: 'csv', rows: Number.NaN, columns: Number.POSITIVE_INFINITY }],
    ['a non-finite page count', { kind: 'pdf', pages: Number.POSITIVE_INFINITY }],
    ['an object for a sheet name', { kind: 'spreadsheet', sheetNames: ['a'], sheets: [{ name: { x: 1 }, rows: 3, columns: 2 }] }],
    ['null sheets', { kind: 'spreadsheet', sheets: [null, 'x', 5] }],
    ['objects where arrays belong', { kind: 'spreadsheet', sheetNames: { 0: 'a' }, sheets: { name: 'a' } }],
    ['a sheet without counts', { kind: 'spreadsheet', sheets: [{ name: 'S' }] }],
    ['an object for a shape', { kind: 'json', shape: { a: 1 }, records: null }],
    ['a null shape', { kind: 'ndjson', shape: null }],
    ['a string for records', { kind: 'json', shape: 'array', records: 'many' }],
    ['strings for dimensions', { kind: 'image', width: '40', height: 30, frames: '5' }],
    ['NaN for width', { kind: 'image', width: Number.NaN, height: 30 }],
    ['an array for partial', { kind: 'text', partial: [], lines: [], words: {} }],
    ['a string for partial', { kind: 'pdf', partial: 'yes' }],
    ['an array for the metadata', ['csv', 1, 2]],
    ['a string for the metadata', 'csv'],
    ['an object for the kind', { kind: { toString: 'csv' }, rows: 1, columns: 1 }],
  ]
  it.each(hostile)('never throws nor shows undefined, NaN or [object Object] given %s', (_, metadata) => {
    const facts = keyFacts(metadata as Record<string, unknown>)
    expect(Array.isArray(facts)).toBe(true)
    for (const fact of facts) {
      expect(typeof fact).toBe('string')
      expect(fact).not.toMatch(/undefined|NaN|null|\[object|Infinity|∞/)
    }
  })

  it('keeps what is readable beside what is not', () => {
    expect(keyFacts({ kind: 'spreadsheet', sheetNames: ['a', 'b'], sheets: [{ name: { x: 1 }, rows: 3, columns: 2 }] })).toEqual(['2 sheets'])
    expect(keyFacts({ kind: 'image', width: 40, height: 30, frames: '5', partial: { reason: 'r' } })).toEqual(['40 × 30 px', 'read in part'])
  })
})

describe('messageOf: the words of an error answer', () => {
  it('reads the API JSON error body', () => {
    expect(messageOf(404, JSON.stringify({ error: { code: 'ERR_FILE_NOT_FOUND', message: 'no such file' } }))).toEqual({ code: 'ERR_FILE_NOT_FOUND', message: 'no such file' })
  })

  it('reads the tus text answer CODE: message, over several lines', () => {
    expect(messageOf(415, 'ERR_TYPE_NOT_ALLOWED: files of type .exe are not accepted here (allowed: csv)\n')).toEqual({ code: 'ERR_TYPE_NOT_ALLOWED', message: 'files of type .exe are not accepted here (allowed: csv)' })
    expect(messageOf(400, 'ERR_X: first line\nsecond line')).toEqual({ code: 'ERR_X', message: 'first line\nsecond line' })
  })

  it('says what status came back when the body is empty', () => {
    expect(messageOf(502, '')).toEqual({ code: '', message: 'the server answered 502' })
    expect(messageOf(503, '  \n')).toEqual({ code: '', message: 'the server answered 503' })
  })

  it('shows a body that is neither as it is, and JSON without an error message likewise', () => {
    expect(messageOf(500, '<html>Bad Gateway</html>')).toEqual({ code: '', message: '<html>Bad Gateway</html>' })
    expect(messageOf(500, '{"error":{"code":"ERR_Y"}}')).toEqual({ code: '', message: '{"error":{"code":"ERR_Y"}}' })
    expect(messageOf(500, 'null')).toEqual({ code: '', message: 'null' })
    expect(messageOf(500, '{"error": "oops"}')).toEqual({ code: '', message: '{"error": "oops"}' })
  })
})

describe('listedBefore: the server listing order, rebuilt from the JSON', () => {
  const at = (createdAt: string, id: string) => ({ createdAt, id })
  it('puts the newer file first and breaks a tie in the millisecond on the id, highest first', () => {
    expect(listedBefore(at('2026-11-21T10:00:00.002Z', 'a'), at('2026-11-21T10:00:00.001Z', 'f'))).toBe(true)
    expect(listedBefore(at('2026-11-21T10:00:00.001Z', 'f'), at('2026-11-21T10:00:00.002Z', 'a'))).toBe(false)
    expect(listedBefore(at('2026-11-21T10:00:00.001Z', 'ff45548b'), at('2026-11-21T10:00:00.001Z', 'e2055e55'))).toBe(true)
    expect(listedBefore(at('2026-11-21T10:00:00.001Z', 'e2055e55'), at('2026-11-21T10:00:00.001Z', 'ff45548b'))).toBe(false)
    expect(listedBefore(at('2026-11-21T10:00:00.001Z', 'a'), at('2026-11-21T10:00:00.001Z', 'a'))).toBe(false)
  })
})
