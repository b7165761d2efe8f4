/**
 * Plain text and Markdown, streamed: the file passes through once in constant
 * memory (counters, a headings outline and at most limits.maxTextBytes of
 * text are all that is kept). The stream pieces live in text-stream.ts, the
 * Markdown outline in markdown-outline.ts.
 */
import type { Parser, TextFacts } from '../parsed.ts'
import { createMarkdownOutline, TITLE_CHARS } from './markdown-outline.ts'
import { createLineSplitter, createSectionCollector, decodeTextStream } from './text-stream.ts'

export const parseText: Parser = async ({ kind, source, limits }) => {
  const markdown = kind === 'markdown' ? createMarkdownOutline() : undefined
  const counts = createTextCounter()
  const sections = createSectionCollector('lines', limits.maxTextBytes)
  let lineNo = 0
  let firstLine: string | undefined
  const splitter = createLineSplitter((line) => {
    lineNo++
    sections.add(line, lineNo)
    if (firstLine === undefined && line.trim() !== '') firstLine = line.trim()
    markdown?.add(line)
  })
  // Lines are only split while something still wants them; counting goes on to the end.
  let splitting = true
  const { encoding } = await decodeTextStream(source, limits.maxLineBytes, (text) => {
    counts.add(text)
    if (!splitting) return
    splitter.push(text)
    splitting = !sections.full || firstLine === undefined || (markdown !== undefined && !markdown.done)
  })
  if (splitting) splitter.end()
  const outline = markdown?.finish()
  const title = outline ? (outline.headings[0]?.text ?? outline.firstText) : firstLine
  const facts: TextFacts = { kind: kind === 'markdown' ? 'markdown' : 'text', encoding, ...counts.finish() }
  if (outline) facts.headings = outline.headings
  if (outline?.frontMatter) facts.frontMatter = outline.frontMatter
  if (title !== undefined) facts.title = title.slice(0, TITLE_CHARS)
  const notes = outline ? [...outline.notes] : []
  if (encoding === 'windows-1252') notes.push('decoded as windows-1252 (Latin-1): the bytes are not valid UTF-8')
  const { sections: list, truncated } = sections.finish()
  return { format: outline ? 'Markdown' : 'Plain text', facts, sections: list, textTruncated: truncated, notes }
}

/** Counts like `wc`: lines (a last line without a newline counts), whitespace-separated words, code points. */
function createTextCounter() {
  let newlines = 0
  let words = 0
  let units = 0
  let lowSurrogates = 0
  let inWord = false
  let last = 10
  return {
    add(text: string) {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        // Printable ASCII first: most characters of most files take only this branch.
        if (c > 32 && c < 127) {
          if (!inWord) words++
          inWord = true
          continue
        }
        if (c === 10) newlines++
        if (isSpace(c)) inWord = false
        else if (!inWord) {
          inWord = true
          words++
        }
        if ((c & 0xfc00) === 0xdc00) lowSurrogates++
      }
      units += text.length
      last = text.charCodeAt(text.length - 1)
    },
    finish() {
      return { lines: newlines + (last === 10 ? 0 : 1), words, characters: units - lowSurrogates }
    },
  }
}

function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13)
  return c === 0xa0 || c === 0x85 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
}
