import { describe, expect, it } from 'vitest'
import { FALLBACK_FILENAME, MAX_FILENAME_LENGTH, safeFilename } from './safe-filename.ts'

/** Nothing a browser or a shell would read as a path, a hidden character or a climb upwards. */
function expectHarmless(name: string): void {
  expect(name).not.toMatch(/[/\\]/)
  expect(name).not.toContain('..')
  expect(name).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/)
  expect(name).not.toMatch(/^[.\s]|[.\s]$/)
  expect(name.length).toBeGreaterThan(0)
  expect(name.length).toBeLessThanOrEqual(MAX_FILENAME_LENGTH)
  expect(name.isWellFormed()).toBe(true)
}

describe('safeFilename', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\win.ini', 'win.ini'],
    ['/abs/path.csv', 'path.csv'],
    ['C:\\Users\\me\\report.xlsx', 'report.xlsx'],
    ['dir/sub\\mixed/name.txt', 'name.txt'],
  ])('keeps only the last path segment of %j', (input, expected) => {
    expect(safeFilename(input)).toBe(expected)
  })

  it.each(['../', '..', '/', 'a/', 'dir\\'])('falls back to %s when the name ends in a separator or is only dots (%j)', (input) => {
    expect(safeFilename(input)).toBe(FALLBACK_FILENAME)
  })

  it('removes C0 and C1 control characters and DEL', () => {
    expect(safeFilename('a\u0000b\nc\rd\te\u001bf\u007fg\u0085h\u009fi.csv')).toBe('abcdefghi.csv')
  })

  it('removes the right-to-left override that makes invoice\\u202Egpj.exe look like a .jpg', () => {
    const safe = safeFilename('invoice\u202Egpj.exe')
    expect(safe).toBe('invoicegpj.exe')
    expect(safe).not.toContain('\u202E')
  })

  it('removes bidi embeddings, isolates and zero-width characters', () => {
    const hidden = '\u200B\u200C\u200D\u200E\u200F\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069\uFEFF'
    expect(safeFilename(`re${hidden}port.csv`)).toBe('report.csv')
  })

  it('removes control characters before looking for separators, so a hidden one cannot shield a ..', () => {
    expect(safeFilename('.\u0000./.\u202E./x.csv')).toBe('x.csv')
    expect(safeFilename('a.\u200B.b')).toBe('a.b')
  })

  it.each([
    ['report..final.csv', 'report.final.csv'],
    ['a...b....c', 'a.b.c'],
    ['name..', 'name'],
  ])('leaves no .. inside %j', (input, expected) => {
    expect(safeFilename(input)).toBe(expected)
  })

  it.each([
    ['  report.csv  ', 'report.csv'],
    ['...hidden', 'hidden'],
    ['. .x. .', 'x'],
    ['data.csv.', 'data.csv'],
  ])('trims leading and trailing dots and spaces from %j', (input, expected) => {
    expect(safeFilename(input)).toBe(expected)
  })

  it.each(['', ' ', '   \t  ', '.', '. . .', '\u202E\u200B', '\u0000\u0001'])('falls back to download for %j', (input) => {
    expect(safeFilename(input)).toBe(FALLBACK_FILENAME)
  })

  it('keeps non-ASCII names as they are', () => {
    expect(safeFilename('résumé 2024.csv')).toBe('résumé 2024.csv')
    expect(safeFilename('данные_отчёт.xlsx')).toBe('данные_отчёт.xlsx')
    expect(safeFilename('報告書 📊.pdf')).toBe('報告書 📊.pdf')
  })

  it('normalises to NFC, so one name has one spelling', () => {
    const decomposed = 're\u0301sume\u0301.csv'
    expect(safeFilename(decomposed)).toBe('r\u00e9sum\u00e9.csv')
    // A mark split from its letter by a removed character composes with it again.
    expect(safeFilename('e\u200B\u0301.txt')).toBe('\u00e9.txt')
  })

  it('caps a long name at 200 characters and keeps its extension', () => {
    const safe = safeFilename(`${'a'.repeat(500)}.csv`)
    expect(safe).toHaveLength(MAX_FILENAME_LENGTH)
    expect(safe).toBe(`${'a'.repeat(MAX_FILENAME_LENGTH - 4)}.csv`)
  })

  it('cuts before an emoji that would be split by the 200th character', () => {
    // 195 letters, then emoji of two UTF-16 units each: the 200th unit is the first half of the third emoji.
    const safe = safeFilename(`${'b'.repeat(195)}${'😀'.repeat(10)}`)
    expect(safe).toBe(`${'b'.repeat(195)}😀😀`)
    expect(safe.isWellFormed()).toBe(true)
  })

  it('cuts whole emoji when the extension is kept too', () => {
    // 195 units are left for the stem: the 195th is the first half of the 98th emoji.
    const safe = safeFilename(`${'😀'.repeat(150)}.jpeg`)
    expect(safe.isWellFormed()).toBe(true)
    expect(safe).toBe(`${'😀'.repeat(97)}.jpeg`)
  })

  it('cuts a long name without a short extension and does not end it with a dot', () => {
    const safe = safeFilename(`${'c'.repeat(199)}.${'d'.repeat(100)}`)
    expect(safe).toBe('c'.repeat(199))
  })

  it('replaces lone surrogates, which cannot be percent-encoded, with U+FFFD', () => {
    expect(safeFilename('bad\uD800name.txt')).toBe('bad\uFFFDname.txt')
  })

  it.each([
    '../../etc/passwd',
    '..\\..\\win.ini',
    '/abs/path.csv',
    '\u0000',
    `..${'\u202E'.repeat(300)}..${'x'.repeat(300)}..`,
    `${'.'.repeat(300)}/${' '.repeat(300)}`,
    `${'é'.repeat(199)}\u0301..csv`,
    ` ${'🙂'.repeat(300)} `,
  ])('gives a harmless name for %j', (input) => {
    expectHarmless(safeFilename(input))
  })
})
