import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_PARSE_LIMITS, type FileKind, type ParseLimits, type TextFacts } from '../parsed.ts'
import { parseText } from './text.ts'

let tmpDir: string
beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'text-test-'))
})
afterEach(async () => {
  await rm(tmpDir, { recursive: true, force: true })
})

function parse(chunks: (Buffer | string)[] | Buffer | string, kind: FileKind = 'text', limits: Partial<ParseLimits> = {}) {
  const list = (Array.isArray(chunks) ? chunks : [chunks]).map((chunk) => Buffer.from(chunk))
  const size = list.reduce((sum, chunk) => sum + chunk.length, 0)
  const source = Readable.from(list)
  return parseText({ kind, mediaType: 'text/plain', source, size, filename: 'file.txt', limits: { ...DEFAULT_PARSE_LIMITS, ...limits }, tmpDir })
}

function splitEvery(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size))
  return chunks
}

const PNG_BYTES = Buffer.from('89504e470d0a1a0a0000000d49484452000000280000001e0802000000', 'hex')

describe('parseText on plain text', () => {
  it('counts lines, words and characters and keeps the text as one section', async () => {
    const out = await parse('  Shopping list\n\neggs, milk\nnaïve café ☕\n')
    expect(out.format).toBe('Plain text')
    expect(out.facts).toEqual({ kind: 'text', encoding: 'utf-8', lines: 4, words: 7, characters: 41, title: 'Shopping list' } satisfies TextFacts)
    expect(out.sections).toEqual([{ title: 'lines 1-4', text: '  Shopping list\n\neggs, milk\nnaïve café ☕' }])
    expect(out.textTruncated).toBe(false)
    expect(out.notes).toEqual([])
  })

  it('counts a last line without a newline and characters outside the BMP once', async () => {
    const out = await parse('one 😀\ntwo')
    expect(out.facts).toMatchObject({ lines: 2, words: 3, characters: 9 })
  })

  it('reads an empty file as zero lines, without a title', async () => {
    const out = await parse([])
    expect(out.facts).toEqual({ kind: 'text', encoding: 'utf-8', lines: 0, words: 0, characters: 0 })
    expect(out.sections).toEqual([])
  })

  it('reads a file cut inside a multi-byte character, the stray byte as U+FFFD', async () => {
    const bytes = Buffer.from('tea ☕')
    const out = await parse(bytes.subarray(0, bytes.length - 1))
    expect(out.facts).toMatchObject({ lines: 1, words: 2, characters: 5 })
    expect(out.sections[0]?.text).toBe('tea \uFFFD')
  })

  it('joins a multi-byte character split across two chunks', async () => {
    const bytes = Buffer.from('déjà vu\n')
    const out = await parse([bytes.subarray(0, 2), bytes.subarray(2, 5), bytes.subarray(5)])
    expect(out.facts).toMatchObject({ characters: 8, words: 2 })
    expect(out.sections[0]?.text).toBe('déjà vu')
  })

  it('refuses PNG bytes as not text', async () => {
    await expect(parse(PNG_BYTES)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringMatching(/^the file is not text/) })
  })

  it('refuses bytes made mostly of control characters', async () => {
    const bytes = Buffer.from(Array.from({ length: 200 }, (_, i) => (i % 2 ? 0x01 : 0x41)))
    await expect(parse(bytes)).rejects.toMatchObject({ code: 'corrupt_file' })
  })

  it('reads Latin-1 bytes as windows-1252 and says so', async () => {
    const out = await parse(Buffer.from('caf\xe9 cr\xe8me\n', 'latin1'))
    expect(out.facts).toMatchObject({ encoding: 'windows-1252', characters: 11, title: 'café crème' })
    expect(out.notes).toEqual(['decoded as windows-1252 (Latin-1): the bytes are not valid UTF-8'])
  })

  it('reads UTF-16 with a byte order mark, the BOM not counted', async () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('héllo\nwörld\n', 'utf16le')])
    const out = await parse(splitEvery(le, 3))
    expect(out.facts).toEqual({ kind: 'text', encoding: 'utf-16le', lines: 2, words: 2, characters: 12, title: 'héllo' })
    expect(out.sections[0]?.text).toBe('héllo\nwörld')
  })

  it('cuts sections near 64 KiB at line boundaries and titles them by line numbers', async () => {
    const line = 'x'.repeat(1023)
    const out = await parse(`${line}\n`.repeat(100))
    expect(out.sections.map((section) => section.title)).toEqual(['lines 1-64', 'lines 65-100'])
    expect(out.sections[1]?.text).toBe(Array(36).fill(line).join('\n'))
  })

  it('keeps at most maxTextBytes of text but still counts the whole file', async () => {
    const out = await parse('word '.repeat(20_000), 'text', { maxTextBytes: 1000 })
    expect(out.textTruncated).toBe(true)
    expect(out.sections.reduce((sum, s) => sum + Buffer.byteLength(s.text), 0)).toBe(1000)
    expect(out.facts).toMatchObject({ lines: 1, words: 20_000, characters: 100_000 })
  })

  it('refuses a line longer than maxLineBytes', async () => {
    await expect(parse('short\n' + 'y'.repeat(101) + '\n', 'text', { maxLineBytes: 100 })).rejects.toMatchObject({
      code: 'line_too_long',
      message: 'a line is longer than 100 bytes, the longest accepted',
    })
  })

  it('accepts a line of exactly maxLineBytes', async () => {
    const out = await parse('y'.repeat(100) + '\r\n', 'text', { maxLineBytes: 101 })
    expect(out.facts).toMatchObject({ lines: 1, characters: 102 })
  })

  it('fails a single endless line early, without reading the rest of the stream', async () => {
    let pulled = 0
    const chunk = Buffer.alloc(64 * 1024, 'a')
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 16_000; i++) {
          pulled++
          yield chunk
        }
      })(),
    )
    const input = { kind: 'text' as const, mediaType: 'text/plain', source, size: 1024 ** 3, filename: 'one-line.txt', tmpDir }
    await expect(parseText({ ...input, limits: { ...DEFAULT_PARSE_LIMITS, maxLineBytes: 1024 * 1024 } })).rejects.toMatchObject({ code: 'line_too_long' })
    expect(pulled).toBeLessThan(100)
    expect(source.destroyed).toBe(true)
  })
})

describe('parseText on Markdown', () => {
  const doc = [
    '---',
    'title: Release notes',
    'tags: [api, "2.0"]',
    'draft: false',
    '---',
    'Intro paragraph before any heading.',
    '',
    '# Version 2.0 #',
    '```sh',
    '# not a heading',
    '```',
    '~~~~',
    '## also not',
    '~~~~',
    'Breaking changes',
    '----------------',
    '- a list item',
    '---',
    '###### Deep',
    '####### seven hashes is text',
    '#hashtag',
    'Summary',
    '===',
    '',
  ].join('\n')

  it('outlines ATX and setext headings outside fenced code, and reads the front matter', async () => {
    const out = await parse(doc, 'markdown')
    expect(out.format).toBe('Markdown')
    expect(out.facts).toMatchObject({
      kind: 'markdown',
      headings: [
        { level: 1, text: 'Version 2.0' },
        { level: 2, text: 'Breaking changes' },
        { level: 6, text: 'Deep' },
        { level: 1, text: 'Summary' },
      ],
      frontMatter: { title: 'Release notes', tags: ['api', '2.0'], draft: false },
      title: 'Version 2.0',
      lines: 23,
    })
    expect(out.notes).toEqual([])
  })

  it('titles a Markdown file without headings by its first line after the front matter', async () => {
    const out = await parse('---\na: 1\n---\n\nJust prose.\n', 'markdown')
    expect(out.facts).toMatchObject({ title: 'Just prose.', headings: [], frontMatter: { a: 1 } })
  })

  it('keeps __proto__ keys of the front matter away from every prototype', async () => {
    const out = await parse('---\n__proto__:\n  polluted: yes\nsafe: 1\nnested:\n  __proto__: { polluted: yes }\n---\n# T\n', 'markdown')
    const facts = out.facts as TextFacts
    expect(facts.frontMatter).toEqual({ safe: 1, nested: {} })
    expect(Object.hasOwn(facts.frontMatter!, '__proto__')).toBe(false)
    expect(Object.getPrototypeOf(facts.frontMatter)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('turns invalid front matter into a note, not a failure', async () => {
    const out = await parse('---\nkey: [unclosed\n---\n# Still read\n', 'markdown')
    expect(out.facts).toMatchObject({ headings: [{ level: 1, text: 'Still read' }] })
    expect((out.facts as TextFacts).frontMatter).toBeUndefined()
    expect(out.notes).toEqual([expect.stringMatching(/^the front matter is not valid YAML and was ignored/)])
  })

  it('ignores front matter that is a list, or custom tags, rather than running anything', async () => {
    const list = await parse('---\n- a\n- b\n---\n', 'markdown')
    expect(list.notes).toEqual(['the front matter is not a mapping of keys to values and was ignored'])
    const tagged = await parse('---\nrun: !!js/function "function () { return 1 }"\n---\n', 'markdown')
    expect((tagged.facts as TextFacts).frontMatter).toEqual({ run: 'function () { return 1 }' })
  })

  it('refuses a billion-laughs front matter with a note', async () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for (let i = 1; i < 9; i++) laughs.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`)
    const out = await parse(`---\n${laughs.join('\n')}\n---\n# After\n`, 'markdown')
    expect((out.facts as TextFacts).frontMatter).toBeUndefined()
    expect(out.notes).toEqual([expect.stringMatching(/^the front matter could not be read and was ignored/)])
    expect(out.facts).toMatchObject({ title: 'After' })
  })

  it('stops the outline at 200 headings', async () => {
    const out = await parse(Array.from({ length: 250 }, (_, i) => `## H${i}`).join('\n'), 'markdown')
    const headings = (out.facts as TextFacts).headings!
    expect(headings).toHaveLength(200)
    expect(headings[199]).toEqual({ level: 2, text: 'H199' })
    expect(out.facts).toMatchObject({ lines: 250 })
  })
})
