/**
 * NDJSON, streamed line by line in constant memory: every line is checked for
 * depth and parsed on its own; lines that are not JSON are counted, and
 * only a file with no JSON line at all is refused.
 * Reached through parseJson in json.ts, the one parser for both kinds.
 */
import { ParseError, type JsonFacts, type ParseInput, type ParserOutput } from '../parsed.ts'
import { addRecordKeys, isRecord, listSchema, measureJsonDepth, type KeyStats } from './json-shape.ts'
import { createLineSplitter, createSectionCollector, decodeTextStream } from './text-stream.ts'

export async function parseNdjson({ source, limits }: ParseInput): Promise<ParserOutput> {
  const keys = new Map<string, KeyStats>()
  const sections = createSectionCollector('records', limits.maxTextBytes)
  let lineNo = 0
  let records = 0
  let invalid = 0
  let firstInvalid = 0
  let depth = 0
  const splitter = createLineSplitter((line) => {
    lineNo++
    if (line.trim() === '') return
    const lineDepth = measureJsonDepth(line, limits.maxJsonDepth)
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      invalid++
      firstInvalid ||= lineNo
      return
    }
    records++
    depth = Math.max(depth, lineDepth)
    if (isRecord(value)) addRecordKeys(keys, value)
    sections.add(line, records)
  })
  const { encoding } = await decodeTextStream(source, limits.maxLineBytes, (text) => splitter.push(text))
  splitter.end()
  if (records === 0 && invalid > 0) {
    throw new ParseError('invalid_json', `none of the ${invalid} non-empty lines is valid JSON, so the file is not NDJSON`)
  }
  const notes = invalid > 0 ? [`${invalid} of ${records + invalid} lines are not valid JSON (the first is line ${firstInvalid})`] : []
  if (encoding === 'windows-1252') notes.push('decoded as windows-1252: the bytes are not valid UTF-8, as JSON should be')
  const facts: JsonFacts = { kind: 'ndjson', shape: 'array', records, schema: listSchema(keys), depth, invalidLines: invalid }
  const { sections: list, truncated } = sections.finish()
  return { format: 'NDJSON', facts, sections: list, textTruncated: truncated, notes }
}
