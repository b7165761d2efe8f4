/**
 * What the bytes of a text head are: whether they are text at all, and then
 * which text format (JSON, NDJSON, CSV/TSV, Markdown, else plain text), from
 * content alone. Heuristics on a sample, so they lean to "plain text" when unsure.
 */
import type { FileKind } from './parsed.ts'
import { detectEncoding } from './parsers/decode-text.ts'

/**
 * The head as text, or null when it does not look like text: NUL or other
 * control characters (beyond tab, newlines, form feed and ESC for coloured
 * logs), undefined windows-1252 bytes, or mostly non-ASCII Latin-1.
 */
export function decodeTextHead(head: Uint8Array): string | null {
  const { encoding } = detectEncoding(head)
  const text = new TextDecoder(encoding).decode(head)
  if (/[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f\u007f]/.test(text)) return null
  if (encoding === 'windows-1252') {
    if (/[\u0080-\u009f]/.test(text)) return null // 0x81, 0x8d, 0x8f, 0x90, 0x9d are unassigned
    const high = text.match(/[^\u0000-\u007f]/g)?.length ?? 0
    if (high > text.length * 0.3) return null
  }
  return text
}

/** Guesses a text kind from content alone: JSON, NDJSON, CSV/TSV, Markdown, else plain text. */
export function sniffTextKind(text: string, cutOff: boolean): FileKind {
  const body = text.replace(/^\uFEFF/, '')
  const lines = body.split('\n')
  if (cutOff) lines.pop() // the last line may be cut mid-way
  const first = body.trimStart()[0]
  if ((first === '{' || first === '[') && isJsonPrefix(body.trim())) return 'json'
  if (isNdjson(lines)) return 'ndjson'
  const delimiter = sniffDelimiter(cutOff ? lines.join('\n') : body)
  if (delimiter) return delimiter === '\t' ? 'tsv' : 'csv'
  if (looksLikeMarkdown(lines)) return 'markdown'
  return 'text'
}

/**
 * True when `text` is JSON or the start of it, cut off at the end of the
 * sample. A lenient walk of the grammar: running out of input is fine, a
 * token that cannot follow is not (`[INFO] started` fails at `I`). A whole
 * file that stops mid-value still counts: the JSON parser then says how it is broken.
 */
function isJsonPrefix(text: string): boolean {
  const stack: string[] = []
  let expect: 'value' | 'key' | 'colon' | 'next' = 'value'
  let i = 0
  const space = /[ \t\r\n]*/y
  const number = /-?\d+(\.\d*)?([eE][+-]?\d*)?/y
  for (;;) {
    space.lastIndex = i
    space.exec(text)
    i = space.lastIndex
    if (i >= text.length) return true
    const c = text[i]!
    const top = stack.at(-1)
    let next = i + 1
    if (expect === 'colon') {
      if (c !== ':') return false
      expect = 'value'
    } else if ((c === '}' && top === '{' && expect !== 'value') || (c === ']' && top === '[' && expect !== 'key')) {
      stack.pop()
      if (stack.length === 0) return text.slice(next).trim() === ''
      expect = 'next'
    } else if (expect === 'next') {
      if (c !== ',' || !top) return false
      expect = top === '{' ? 'key' : 'value'
    } else if (c === '"') {
      next = findStringEnd(text, i)
      if (next < 0) return true
      expect = expect === 'key' ? 'colon' : 'next'
    } else if (expect === 'key') {
      return false
    } else if (c === '{' || c === '[') {
      stack.push(c)
      expect = c === '{' ? 'key' : 'value'
    } else {
      number.lastIndex = i
      const word = number.exec(text)?.[0] ?? LITERALS.find((w) => text.startsWith(w, i))
      if (!word) return LITERALS.some((w) => w.startsWith(text.slice(i)))
      next = i + word.length
      expect = 'next'
    }
    i = next
  }
}

const LITERALS = ['true', 'false', 'null']

/** Index just past the closing quote of the string starting at `start`, or -1 when the text ends inside it. */
function findStringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i + 1
  }
  return -1
}

function isNdjson(lines: string[]): boolean {
  const records = lines.map((line) => line.trim()).filter((line) => line !== '')
  if (records.length < 2 || !records.every((line) => line.startsWith('{'))) return false
  return records.every((line) => {
    try {
      JSON.parse(line)
      return true
    } catch {
      return false
    }
  })
}

const DELIMITERS = ['\t', ',', ';', '|'] as const

/**
 * The delimiter that appears the same number of times (at least once) in
 * nearly every one of the first records, counting outside double quotes
 * (a quoted field may hold the delimiter or a newline); the largest count wins.
 */
function sniffDelimiter(text: string): string | null {
  const records: Record<string, number>[] = []
  let counts = countNothing()
  let quoted = false
  let start = 0
  for (let i = 0; i <= text.length && records.length < 50; i++) {
    const c = text[i]
    if (c === '"') quoted = !quoted
    else if (quoted) continue
    else if (c === '\n' || c === undefined) {
      if (text.slice(start, i).trim() !== '') records.push(counts)
      counts = countNothing()
      start = i + 1
    } else if (c in counts) counts[c]!++
  }
  if (records.length < 2) return null
  let best: { delimiter: string; count: number } | null = null
  for (const delimiter of DELIMITERS) {
    const count = records[0]![delimiter]!
    const same = records.filter((r) => r[delimiter] === count).length
    if (count > 0 && same >= records.length * 0.9 && count > (best?.count ?? 0)) best = { delimiter, count }
  }
  return best?.delimiter ?? null
}

function countNothing(): Record<string, number> {
  return { '\t': 0, ',': 0, ';': 0, '|': 0 }
}

function looksLikeMarkdown(lines: string[]): boolean {
  if (lines[0]?.trim() === '---' && lines.slice(1).some((line) => /^(---|\.\.\.)\s*$/.test(line))) return true
  const sample = lines.slice(0, 500)
  const fences = sample.filter((line) => /^\s{0,3}(```|~~~)/.test(line)).length
  return fences >= 2 || sample.some((line) => /^#{1,6}[ \t]+\S/.test(line))
}
