/**
 * What one table cell holds: a null, a number, a boolean, a date or text.
 * This runs per cell, so values are read with char-code checks, not
 * regexes, and numbers and dates are reported through the `parsed` scratch
 * (value-kinds.ts) instead of a result object per cell.
 */
import { isDigit, scanDate } from './scan-date.ts'
import { BOOL, INT, NUM, NUMBER, parsed, TEXT } from './value-kinds.ts'

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k)
const NULL_WORDS = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', 'nil', '-', '--', '?', '#n/a', '(null)', '(blank)', 'undefined'])
const BOOLEAN_WORDS = ['true', 'false', 'yes', 'no']

/** Empty, blank or one of the usual spellings of "no value" (NA, N/A, NULL, NaN, None, -, ...). */
export function isNullValue(value: string): boolean {
  const length = value.length
  if (length === 0) return true
  switch (value.charCodeAt(0)) {
    case 32: // space
    case 9: // tab
      return NULL_WORDS.has(value.trim().toLowerCase())
    case 110: // n
    case 78: // N
    case 45: // -
    case 63: // ?
    case 35: // #
    case 40: // (
    case 117: // u
    case 85: // U
      return length <= 9 && NULL_WORDS.has(value.trim().toLowerCase())
    default:
      return false
  }
}

/** The kind of a non-null value; leaves numbers and dates in `parsed`. */
export function classifyValue(value: string): number {
  let start = 0
  let end = value.length
  while (start < end && isSpace(value.charCodeAt(start))) start++
  while (end > start && isSpace(value.charCodeAt(end - 1))) end--
  const first = value.charCodeAt(start)
  if (isDigit(first) || first === 45 || first === 43 || first === 46) {
    const kind = scanNumber(value, start, end)
    if (kind !== 0) return kind
    return isDigit(first) ? scanDate(value, start, end) : TEXT
  }
  for (const word of BOOLEAN_WORDS) if (isWordAt(value, start, end, word)) return BOOL
  return TEXT
}

/** Case-insensitive comparison of value[start, end) with a lower-case ASCII word. */
function isWordAt(value: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false
  for (let i = 0; i < word.length; i++) if ((value.charCodeAt(start + i) | 32) !== word.charCodeAt(i)) return false
  return true
}

/**
 * INT, NUM or 0 for [+-]digits[.digits][e[+-]digits], leaving the value in
 * parsed[NUMBER]. A leading zero ("02134") is a code, not a quantity. Up to 15
 * digits the value is computed here: an exact integer divided by an exact
 * power of ten is correctly rounded, like Number(), at a fraction of its cost.
 */
function scanNumber(s: string, start: number, end: number): number {
  let i = start
  const sign = s.charCodeAt(i) === 45 ? -1 : 1
  if (sign < 0 || s.charCodeAt(i) === 43) i++
  const intStart = i
  let mantissa = 0
  for (let c = s.charCodeAt(i); i < end && isDigit(c); c = s.charCodeAt(++i)) mantissa = mantissa * 10 + c - 48
  const intDigits = i - intStart
  if (intDigits > 1 && s.charCodeAt(intStart) === 48) return 0
  let fracDigits = 0
  if (i < end && s.charCodeAt(i) === 46) {
    const fracStart = ++i
    for (let c = s.charCodeAt(i); i < end && isDigit(c); c = s.charCodeAt(++i)) mantissa = mantissa * 10 + c - 48
    fracDigits = i - fracStart
  }
  if (intDigits + fracDigits === 0) return 0
  let exponent = false
  if (i < end && (s.charCodeAt(i) | 32) === 101) {
    exponent = true
    i++
    if (s.charCodeAt(i) === 45 || s.charCodeAt(i) === 43) i++
    const expStart = i
    while (i < end && isDigit(s.charCodeAt(i))) i++
    if (i === expStart) return 0
  }
  if (i !== end) return 0
  const exact = !exponent && intDigits + fracDigits <= 15
  parsed[NUMBER] = exact ? (sign * mantissa) / (POWERS_OF_TEN[fracDigits] as number) : Number(s.slice(start, end))
  return exponent || fracDigits > 0 || i - intStart > intDigits ? NUM : INT
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9
}
