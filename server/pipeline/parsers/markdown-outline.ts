/**
 * The outline of a Markdown file, read line by line as it streams past:
 * YAML front matter (parsed as plain data, safely) and the headings.
 */
import { parseDocument } from 'yaml'

/** Longest heading (and title) kept, in characters. */
export const TITLE_CHARS = 200

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
export function createMarkdownOutline() {
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
