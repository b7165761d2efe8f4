/**
 * Plain text and Markdown, streamed: the file passes through once in constant
 * memory (counters, a headings outline and at most limits.maxTextBytes of
 * text are all that is kept). Also the shared text-stream pieces the NDJSON
 * parser uses: decodeTextStream, createLineSplitter, createSectionCollector.
 */
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseDocument } from 'yaml'
import { ParseError, type Parser, type TextFacts, type TextSection } from '../parsed.ts'
import { createDecoder, detectEncoding, type DetectedEncoding, type TextEncoding } from './decode-text.ts'

const HEAD_BYTES = 64 * 1024
/** Sections are cut at the first line boundary past this many bytes. */
const SECTION_BYTES = 64 * 1024
const TITLE_CHARS = 200

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

/**
 * Reads `source` as text: decides the encoding (and refuses binary) from the
 * first 64 KiB, then hands decoded strings to `onText`. A line longer than
 * `maxLineBytes` is refused as soon as its bytes arrive, before decoding, so
 * a 1 GB single-line file fails after maxLineBytes, not after 1 GB.
 */
export async function decodeTextStream(
  source: Readable,
  maxLineBytes: number,
  onText: (text: string) => void,
): Promise<DetectedEncoding> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
  try {
    const head: Buffer[] = []
    let headBytes = 0
    while (headBytes < HEAD_BYTES) {
      const next = await chunks.next()
      if (next.done) break
      head.push(toBuffer(next.value))
      headBytes += head[head.length - 1]!.length
    }
    const headBytesAll = Buffer.concat(head)
    const detected = detectEncoding(headBytesAll)
    assertLooksLikeText(headBytesAll, detected.encoding)
    const checkLines = createLineLengthCheck(detected.encoding, maxLineBytes)
    async function* readBytes() {
      for (const chunk of head) yield checkLines(chunk)
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield checkLines(toBuffer(next.value))
    }
    await pipeline(readBytes, createDecoder(detected.encoding), async (texts: AsyncIterable<string>) => {
      for await (const text of texts) onText(text)
    })
    return detected
  } finally {
    // Stops the upstream read when we fail early; harmless once it has ended.
    source.destroy()
  }
}

function toBuffer(chunk: Buffer | string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk)
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/** NUL bytes (outside UTF-16) or many control characters in the head mean the bytes are not text. */
function assertLooksLikeText(head: Buffer, encoding: TextEncoding): void {
  if (head.length === 0) return
  const text = new TextDecoder(encoding).decode(head)
  let controls = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0) throw new ParseError('corrupt_file', 'the file is not text: it contains NUL bytes')
    // Tab, LF, VT, FF, CR and ESC (ANSI colours in logs) are normal in text.
    if (c < 32 && (c < 9 || c > 13) && c !== 27) controls++
  }
  if (controls > text.length / 10) {
    throw new ParseError('corrupt_file', `the file is not text: ${controls} of its first ${text.length} characters are control characters`)
  }
}

/**
 * Measures lines in raw bytes. For UTF-16 a 0x0A byte at the code unit's low
 * position counts as a newline without checking its partner byte: a few
 * characters (U+xx0A) then end a "line" early, which only makes the check
 * more lenient, never wrongly strict.
 */
function createLineLengthCheck(encoding: TextEncoding, maxLineBytes: number): (chunk: Buffer) => Buffer {
  const parity = encoding === 'utf-16le' ? 0 : encoding === 'utf-16be' ? 1 : -1
  let run = 0
  let offset = 0
  return (chunk) => {
    for (let from = 0; ; ) {
      let at = chunk.indexOf(0x0a, from)
      while (parity >= 0 && at >= 0 && (offset + at) % 2 !== parity) at = chunk.indexOf(0x0a, at + 1)
      run += (at < 0 ? chunk.length : at) - from
      if (run > maxLineBytes) {
        throw new ParseError('line_too_long', `a line is longer than ${maxLineBytes} bytes, the longest accepted`)
      }
      if (at < 0) break
      run = 0
      from = at + 1
    }
    offset += chunk.length
    return chunk
  }
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

/** Splits decoded text into lines (without `\n` or a `\r` before it), across chunk boundaries. */
export function createLineSplitter(onLine: (line: string) => void) {
  let carry = ''
  const emit = (line: string) => onLine(line.endsWith('\r') ? line.slice(0, -1) : line)
  return {
    push(text: string) {
      let from = 0
      for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', from)) {
        emit(carry + text.slice(from, at))
        carry = ''
        from = at + 1
      }
      carry += text.slice(from)
    },
    end() {
      if (carry !== '') emit(carry)
      carry = ''
    },
  }
}

/**
 * Gathers lines into sections of about 64 KiB titled `<label> A-B`, keeping
 * at most `maxTextBytes` UTF-8 bytes in total (newlines included).
 */
export function createSectionCollector(label: string, maxTextBytes: number) {
  const sections: TextSection[] = []
  let parts: string[] = []
  let partBytes = 0
  let first = 0
  let last = 0
  let total = 0
  let truncated = false
  let full = false
  const flush = () => {
    if (parts.length > 0) sections.push({ title: `${label} ${first}-${last}`, text: parts.join('\n') })
    parts = []
    partBytes = 0
  }
  return {
    get full() {
      return full
    },
    add(line: string, no: number) {
      if (full) return
      let bytes = Buffer.byteLength(line) + 1
      if (total >= maxTextBytes) {
        truncated = full = true
        return flush()
      }
      if (total + bytes > maxTextBytes) {
        line = cutToBytes(line, maxTextBytes - total)
        bytes = maxTextBytes - total
        truncated = full = true
      }
      if (parts.length === 0) first = no
      parts.push(line)
      last = no
      partBytes += bytes
      total += bytes
      if (partBytes >= SECTION_BYTES || full) flush()
    },
    finish() {
      flush()
      return { sections, truncated }
    },
  }
}

/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes, never splitting a character. */
export function cutToBytes(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text
  const bytes = Buffer.from(text.slice(0, Math.max(0, maxBytes)))
  if (bytes.length <= maxBytes) return bytes.toString()
  let end = maxBytes
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString()
}

const MAX_HEADINGS = 200
/** Front matter longer than this is ignored rather than parsed. */
const FRONT_MATTER_BYTES = 64 * 1024
/** Billion-laughs guard: YAML aliases resolved in the front matter, at most. */
const MAX_ALIASES = 50

type Fence = { char: string; length: number }

/**
 * Markdown structure from a line-by-line pass: YAML front matter, then ATX
 * (`# x`) and setext (`x` over `===`/`---`) headings outside fenced code.
 * Hand-written scanning, no regular expressions: lines are untrusted and up
 * to maxLineBytes long.
 */
function createMarkdownOutline() {
  const headings: { level: number; text: string }[] = []
  const notes: string[] = []
  const frontLines: string[] = []
  let frontBytes = 0
  let frontMatter: Record<string, unknown> | undefined
  let state: 'start' | 'front' | 'body' = 'start'
  let fence: Fence | undefined
  let paragraph: string | undefined
  let firstText: string | undefined
  const addHeading = (level: number, text: string) => {
    if (text !== '' && headings.length < MAX_HEADINGS) headings.push({ level, text: text.slice(0, TITLE_CHARS) })
  }
  const addBodyLine = (line: string) => {
    const indent = countIndent(line)
    if (fence) {
      if (indent < 4 && closesFence(line.trim(), fence)) fence = undefined
      return
    }
    const trimmed = line.trim()
    if (indent < 4) {
      fence = readFence(trimmed)
      const atx = fence ? undefined : readAtxHeading(trimmed)
      const setext = paragraph !== undefined && !fence && !atx ? readSetextLevel(trimmed) : 0
      if (atx) addHeading(atx.level, atx.text)
      if (setext) addHeading(setext, paragraph!.trim())
      if (fence || atx || setext) {
        paragraph = undefined
        return
      }
    }
    if (firstText === undefined && trimmed !== '') firstText = trimmed
    paragraph = indent < 4 && trimmed !== '' && !startsBlock(trimmed) ? line : undefined
  }
  const endFrontMatter = () => {
    const result = readFrontMatter(frontLines.join('\n'))
    if ('note' in result) notes.push(result.note)
    else frontMatter = result.value
    state = 'body'
  }
  return {
    get done() {
      return headings.length >= MAX_HEADINGS
    },
    add(line: string) {
      if (state === 'start') {
        state = line.trimEnd() === '---' ? 'front' : 'body'
        if (state === 'front') return
      } else if (state === 'front') {
        const end = line.trimEnd()
        if (end === '---' || end === '...') return endFrontMatter()
        frontBytes += line.length + 1
        if (frontBytes <= FRONT_MATTER_BYTES) frontLines.push(line)
        return
      }
      addBodyLine(line)
    },
    finish() {
      if (state === 'front') notes.push('the front matter has no closing --- line and was ignored')
      return { headings, frontMatter, firstText, notes }
    },
  }
}

function countIndent(line: string): number {
  let i = 0
  while (i < 4 && line[i] === ' ') i++
  return i
}

/** `>` quotes, list items and HTML blocks cannot carry a setext underline in our simple reading. */
function startsBlock(trimmed: string): boolean {
  const c = trimmed[0]
  if (c === '>' || c === '<') return true
  if ((c === '-' || c === '*' || c === '+') && (trimmed[1] === ' ' || trimmed[1] === '\t')) return true
  let i = 0
  while (i < 9 && trimmed.charCodeAt(i) >= 48 && trimmed.charCodeAt(i) <= 57) i++
  return i > 0 && (trimmed[i] === '.' || trimmed[i] === ')') && (trimmed[i + 1] === ' ' || trimmed[i + 1] === undefined)
}

function readFence(trimmed: string): Fence | undefined {
  const char = trimmed[0]
  if (char !== '`' && char !== '~') return undefined
  let length = 0
  while (trimmed[length] === char) length++
  if (length < 3) return undefined
  // "The info string may not contain any backtick characters" (CommonMark 4.5).
  if (char === '`' && trimmed.indexOf('`', length) >= 0) return undefined
  return { char, length }
}

function closesFence(trimmed: string, fence: Fence): boolean {
  let length = 0
  while (trimmed[length] === fence.char) length++
  return length >= fence.length && length === trimmed.length
}

function readAtxHeading(trimmed: string): { level: number; text: string } | undefined {
  let level = 0
  while (trimmed[level] === '#') level++
  if (level < 1 || level > 6) return undefined
  const after = trimmed[level]
  if (after !== undefined && after !== ' ' && after !== '\t') return undefined
  let text = trimmed.slice(level, level + 1000).trim()
  // An optional closing run of #s, when a space separates it from the text.
  let end = text.length
  while (end > 0 && text[end - 1] === '#') end--
  if (end === 0) text = ''
  else if (end < text.length && (text[end - 1] === ' ' || text[end - 1] === '\t')) text = text.slice(0, end).trimEnd()
  return { level, text }
}

function readSetextLevel(trimmed: string): number {
  const c = trimmed[0]
  if (c !== '=' && c !== '-') return 0
  for (let i = 1; i < trimmed.length; i++) if (trimmed[i] !== c) return 0
  return c === '=' ? 1 : 2
}

/**
 * YAML front matter as plain data: core schema (no custom tags, no
 * timestamps), aliases capped, and rebuilt through JSON so no key, not even
 * `__proto__`, can reach a prototype in whatever later reads it.
 */
function readFrontMatter(source: string): { value: Record<string, unknown> } | { note: string } {
  try {
    const doc = parseDocument(source, { schema: 'core', customTags: [], uniqueKeys: true, logLevel: 'silent', prettyErrors: false })
    const error = doc.errors[0]
    if (error) return { note: `the front matter is not valid YAML and was ignored: ${error.message.slice(0, 200)}` }
    const data: unknown = doc.toJS({ maxAliasCount: MAX_ALIASES })
    if (!isPlainObject(data)) return { note: 'the front matter is not a mapping of keys to values and was ignored' }
    const value: unknown = JSON.parse(JSON.stringify(data), (key, item: unknown) => (key === '__proto__' ? undefined : item))
    return { value: value as Record<string, unknown> }
  } catch (error) {
    // Too many aliases, or an anchor that refers to itself (JSON cannot hold a cycle).
    return { note: `the front matter could not be read and was ignored: ${(error as Error).message.slice(0, 200)}` }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
