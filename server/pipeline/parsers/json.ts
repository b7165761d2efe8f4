/**
 * JSON and NDJSON. A JSON document up to limits.wholeFileBytes is parsed
 * whole with JSON.parse after an iterative bracket scan has refused deep
 * nesting; above it only the top-level shape is read. NDJSON is streamed line
 * by line (ndjson.ts); the depth scan and key schema are in json-shape.ts.
 */
import { formatBytesFixed } from '../format-bytes.ts'
import { ParseError, type JsonFacts, type JsonType, type ParseInput, type Parser, type ParserOutput } from '../parsed.ts'
import { detectEncoding } from './decode-text.ts'
import { addRecordKeys, findStringEnd, isRecord, listSchema, measureJsonDepth, typeOfJson, type KeyStats } from './json-shape.ts'
import { parseNdjson } from './ndjson.ts'
import { readUpTo } from './read-bytes.ts'
import { cutToBytes } from './text-stream.ts'

const HEAD_BYTES = 64 * 1024

export const parseJson: Parser = (input) => (input.kind === 'ndjson' ? parseNdjson(input) : parseJsonDocument(input))

async function parseJsonDocument({ source, size, limits }: ParseInput): Promise<ParserOutput> {
  const bytes = await readUpTo(source, size > limits.wholeFileBytes ? HEAD_BYTES : limits.wholeFileBytes)
  if (size > limits.wholeFileBytes || bytes.length > limits.wholeFileBytes) return describeLargeJson(bytes, size, limits.wholeFileBytes)
  const { encoding } = detectEncoding(bytes)
  const text = new TextDecoder(encoding).decode(bytes)
  if (text.trim() === '') throw new ParseError('invalid_json', 'the file is empty, and an empty file is not JSON')
  const depth = measureJsonDepth(text, limits.maxJsonDepth)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ParseError('invalid_json', explainJsonError(error as Error, text), { cause: error })
  }
  const keys = new Map<string, KeyStats>()
  let records: number | null = null
  if (Array.isArray(value)) {
    records = value.length
    for (const item of value) if (isRecord(item)) addRecordKeys(keys, item)
  } else if (isRecord(value)) {
    addRecordKeys(keys, value)
    records = keys.size
  }
  const pretty = indentJson(text, limits.maxTextBytes)
  const facts: JsonFacts = { kind: 'json', shape: typeOfJson(value), records, schema: listSchema(keys), depth }
  const notes = encoding === 'utf-8' || encoding.startsWith('utf-16') ? [] : ['decoded as windows-1252: the bytes are not valid UTF-8, as JSON should be']
  const sections = pretty.text === '' ? [] : [{ title: 'document', text: pretty.text }]
  return { format: 'JSON', facts, sections, textTruncated: pretty.truncated, notes }
}

/** Over the whole-file cap: the first non-blank character tells the top-level shape, and nothing more is read. */
function describeLargeJson(head: Buffer, size: number, wholeFileBytes: number): ParserOutput {
  const text = new TextDecoder(detectEncoding(head).encoding).decode(head)
  const first = text.trimStart()[0]
  const shape: JsonType | undefined =
    first === '{' ? 'object' : first === '[' ? 'array' : first === '"' ? 'string' : first === 't' || first === 'f' ? 'boolean'
    : first === 'n' ? 'null' : first !== undefined && '-0123456789'.includes(first) ? 'number' : undefined
  if (!shape) throw new ParseError('invalid_json', `the file is not JSON: it starts with ${JSON.stringify(first ?? text.slice(0, 1))}`)
  const facts: JsonFacts = { kind: 'json', shape, records: null, schema: [], depth: shape === 'object' || shape === 'array' ? 1 : 0 }
  const reason = `the file is ${formatBytesFixed(size)}, over the ${formatBytesFixed(wholeFileBytes)} read in full for JSON: only its top-level shape was read`
  return { format: 'JSON', facts, sections: [], textTruncated: false, partial: { reason }, notes: [] }
}


/** V8's message, with the position as line and column (V8 names it only for some errors). */
function explainJsonError(error: Error, text: string): string {
  const positioned = /^(.*?) in JSON at position (\d+)/.exec(error.message)
  const unexpected = /^(Unexpected token '[\s\S]{1,2}'), (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(error.message)
  let reason = error.message
  let position: number | undefined
  if (positioned) {
    reason = positioned[1]!
    position = Number(positioned[2])
  } else if (unexpected) {
    // V8 quotes the 10 characters either side of the bad token (or the whole text when shorter than 21).
    reason = unexpected[1]!
    const context = unexpected[3]!
    if (unexpected[2]) position = text.indexOf(context) + 10
    else if (unexpected[4]) position = context.length - 10
    else position = findOutsideStrings(text, unexpected[1]!.slice(-2, -1))
  } else if (/end of JSON input/.test(error.message)) position = text.length
  if (position === undefined || position < 0) return `the file is not valid JSON: ${reason.slice(0, 200)}`
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return `the file is not valid JSON: ${reason.slice(0, 200)} at line ${line}, column ${column}`
}

/**
 * Re-indents JSON text with 2 spaces, stopping at `maxBytes`: the cost is
 * bounded by the output, not the input. Strings and numbers are copied as
 * written (escapes kept).
 */
function indentJson(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const out: string[] = []
  let size = 0
  let indent = 0
  const push = (piece: string) => {
    out.push(piece.length > maxBytes - size ? piece.slice(0, maxBytes - size) : piece)
    size += piece.length
  }
  let i = 0
  while (i < text.length && size < maxBytes) {
    const c = text[i]!
    let end = i + 1
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      // Blank between tokens: dropped.
    } else if (c === '"') {
      end = findStringEnd(text, i) + 1
      push(text.slice(i, end))
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']'
      const next = skipBlank(text, i + 1)
      if (text[next] === close) end = next + 1
      push(text[next] === close ? c + close : c + '\n' + '  '.repeat(++indent))
    } else if (c === '}' || c === ']') push('\n' + '  '.repeat(Math.max(0, --indent)) + c)
    else if (c === ',') push(',\n' + '  '.repeat(indent))
    else if (c === ':') push(': ')
    else {
      while (end < text.length && !' \t\r\n,:{}[]"'.includes(text[end]!)) end++
      push(text.slice(i, end))
    }
    i = end
  }
  const joined = out.join('')
  const cut = cutToBytes(joined, maxBytes)
  return { text: cut, truncated: cut.length < joined.length || skipBlank(text, i) < text.length }
}

/** First `char` outside string literals: the bad token of a short text V8 quoted whole. */
function findOutsideStrings(text: string, char: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') i = findStringEnd(text, i)
    else if (text[i] === char) return i
  }
  return -1
}

function skipBlank(text: string, from: number): number {
  while (from < text.length && ' \t\r\n'.includes(text[from]!)) from++
  return from
}
