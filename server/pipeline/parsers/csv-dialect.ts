/**
 * How a CSV file is written, decided once from its first 64 KiB: encoding,
 * byte order mark, delimiter, line ending, and whether the first record is
 * a header.
 */
import Papa from 'papaparse'
import { ParseError } from '../parsed.ts'
import { detectEncoding, type TextEncoding } from './decode-text.ts'
import { looksLikeHeader } from './table-header.ts'

/** The head the dialect is read from. */
export const HEAD_BYTES = 64 * 1024
const HEADER_PROBE_ROWS = 50
const DELIMITERS = [',', ';', '\t', '|']

type Newline = '\n' | '\r' | '\r\n'

export type Dialect = {
  encoding: TextEncoding
  bom: boolean
  delimiter: string
  newline: Newline
  /** CRLF and bare LF both: records are split on LF and their CRs trimmed (trimCarriageReturn). */
  mixedNewlines: boolean
  hasHeader: boolean
}

export function inspectHead(head: Buffer, tsv: boolean): Dialect {
  const { encoding, bom } = detectEncoding(head)
  const text = new TextDecoder(encoding).decode(head)
  assertLooksLikeText(text)
  const { newline, mixedNewlines } = detectNewline(text)
  const delimiter = tsv ? '\t' : guessDelimiter(text, newline)
  const probe = Papa.parse<string[]>(text, { delimiter, newline, skipEmptyLines: true, preview: HEADER_PROBE_ROWS + 2 }).data
  // The last record of the probe may be cut where the head ends.
  if (head.length === HEAD_BYTES && probe.length > 1) probe.pop()
  if (mixedNewlines) probe.forEach(trimCarriageReturn)
  const hasHeader = probe.length > 0 && looksLikeHeader(probe[0]!, probe.slice(1))
  return { encoding, bom, delimiter, newline, mixedNewlines, hasHeader }
}

/** The dialect of an empty file. */
export function emptyDialect(tsv: boolean): Dialect {
  return { encoding: 'utf-8', bom: false, delimiter: tsv ? '\t' : ',', newline: '\n', mixedNewlines: false, hasHeader: false }
}

/** Drops the CR that splitting a CRLF record on LF leaves on its last field. */
export function trimCarriageReturn(row: string[]): void {
  const last = row[row.length - 1]!
  if (last.charCodeAt(last.length - 1) === 13) row[row.length - 1] = last.slice(0, -1)
}

/** NUL or many control characters in the head mean the bytes are not text (a PNG, a zip ...). */
function assertLooksLikeText(text: string): void {
  let controls = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0) throw new ParseError('corrupt_file', 'the file is not CSV text: it contains NUL bytes')
    if (c < 32 && (c < 9 || c > 13) && c !== 27) controls++
  }
  if (controls > 2 && controls * 100 > text.length) {
    throw new ParseError('corrupt_file', `the file is not CSV text: ${controls} of its first ${text.length} characters are control characters`)
  }
}

/**
 * papaparse guesses the line ending from the first chunk it sees, which may
 * end between a CR and its LF; decide it from the head instead. With both
 * CRLF and bare LF in the file, split on LF and trim the CRs ourselves.
 */
function detectNewline(text: string): { newline: Newline; mixedNewlines: boolean } {
  let crlf = 0
  let lf = 0
  let cr = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) text.charCodeAt(i - 1) === 13 ? crlf++ : lf++
  for (let i = text.indexOf('\r'); i !== -1; i = text.indexOf('\r', i + 1)) if (text.charCodeAt(i + 1) !== 10) cr++
  if (crlf > 0 && lf === 0) return { newline: '\r\n', mixedNewlines: false }
  if (cr > 0 && lf === 0 && crlf === 0) return { newline: '\r', mixedNewlines: false }
  return { newline: '\n', mixedNewlines: crlf > 0 }
}

function guessDelimiter(text: string, newline: Newline): string {
  const { delimiter } = Papa.parse(text, { delimitersToGuess: DELIMITERS, newline, skipEmptyLines: true, preview: 20 }).meta
  return DELIMITERS.includes(delimiter) ? delimiter : ','
}
