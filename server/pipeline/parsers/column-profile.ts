/**
 * Streaming column profiler for tables (CSV records, spreadsheet rows): feed
 * it rows of strings, get one ColumnFacts per column. Column names and values
 * only ever land in arrays, Sets of hashes and numbers, never as object keys,
 * so a column called `__proto__` is just a string.
 *
 * Cost rule (measured, see the parsing notes): every row of the first 50,000
 * is profiled, then every 10th; the others are only counted. Row counts
 * stay exact; everything else comes from the profiled rows, and null counts
 * past row 50,000 are scaled up from the sample (an estimate then).
 *
 * distinct: exact (by 32-bit hash, collisions negligible) up to 4,096 values,
 * then a HyperLogLog estimate (2,048 registers, about +/-2.5%) of the distinct
 * values among the profiled rows. When the table is sampled that is the count
 * in the sample, so it undercounts columns that are unique across the file.
 *
 * The hot path is per cell, so values are classified with char-code checks,
 * not regexes, and classification reports through module-level scratch
 * variables instead of allocating a result per cell.
 */
import type { ColumnFacts, ColumnType } from '../parsed.ts'

export const FULL_PROFILE_ROWS = 50_000
export const SAMPLE_EVERY = 10
/** Columns past this are counted but not named or profiled: the facts must stay a small summary. */
export const MAX_PROFILED_COLUMNS = 1000
const EXACT_DISTINCT_LIMIT = 4096
const SKETCH_BITS = 11
const MAX_SAMPLES = 5
const MAX_SAMPLE_CHARS = 80
const MAX_NAME_CHARS = 200

// Kinds of a single value, as bits so that a column's kinds combine with `|`.
const INT = 1
const NUM = 2
const BOOL = 4
const DATE = 8
/** d/m/y or m/d/y with the year last: the column decides which, if it can. */
const AMBIGUOUS_DATE = 16
const TEXT = 32
const NUMERIC = INT | NUM
const DATES = DATE | AMBIGUOUS_DATE

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k)
const NULL_WORDS = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', 'nil', '-', '--', '?', '#n/a', '(null)', '(blank)', 'undefined'])
const BOOLEAN_WORDS = ['true', 'false', 'yes', 'no']

/**
 * Scratch results of classifyValue(), read right after the call. A typed
 * array, because storing a double in a module-level `let` boxes it: one
 * heap allocation per cell.
 */
const parsed = new Float64Array(4)
const NUMBER = 0
const TIME = 1
const DMY = 2
const MDY = 3
let parsedHasTime = false

type ColumnState = {
  /** Nulls in the first FULL_PROFILE_ROWS rows. */
  nulls: number
  /** Nulls in the sampled rows after those. */
  sampledNulls: number
  kinds: number
  numbers: number
  sum: number
  min: number
  max: number
  earliest: number
  latest: number
  earliestHasTime: boolean
  latestHasTime: boolean
  dmyMin: number
  dmyMax: number
  mdyMin: number
  mdyMax: number
  notDmy: boolean
  notMdy: boolean
  /** Open-addressing set of value hashes (0 = empty slot) while counting exactly, then null. */
  hashes: Int32Array | null
  distinct: number
  sketch: Uint8Array | null
  samples: string[]
}

export type ColumnProfiler = {
  /** Feeds one data row (never the header). */
  addRow(row: readonly string[]): void
  /** Data rows fed so far. */
  rowCount(): number
  /** Widest row seen, uncapped. */
  columnCount(): number
  /** Facts for the first MAX_PROFILED_COLUMNS columns (at least as many as `names`), named from `names`. */
  finish(names: readonly string[]): { columnFacts: ColumnFacts[]; sampled: boolean }
}

export function createColumnProfiler(): ColumnProfiler {
  const columns: ColumnState[] = []
  let rows = 0
  let sampledRows = 0
  let widest = 0
  return {
    addRow(row) {
      if (row.length > widest) widest = row.length
      const sampling = rows >= FULL_PROFILE_ROWS
      if (sampling && rows % SAMPLE_EVERY !== 0) return void rows++
      // A column first seen now was missing (null) in every earlier profiled row.
      const width = Math.min(row.length, MAX_PROFILED_COLUMNS)
      while (columns.length < width) columns.push(createColumnState(Math.min(rows, FULL_PROFILE_ROWS), sampledRows))
      rows++
      if (sampling) sampledRows++
      for (let i = 0; i < width; i++) {
        const column = columns[i] as ColumnState
        if (!observeValue(column, row[i] as string)) continue
        if (sampling) column.sampledNulls++
        else column.nulls++
      }
      for (let i = width; i < columns.length; i++) {
        const column = columns[i] as ColumnState
        if (sampling) column.sampledNulls++
        else column.nulls++
      }
    },
    rowCount: () => rows,
    columnCount: () => widest,
    finish(names) {
      // Columns named by the header that no row reached: null in every row.
      while (columns.length < Math.min(names.length, MAX_PROFILED_COLUMNS)) columns.push(createColumnState(Math.min(rows, FULL_PROFILE_ROWS), sampledRows))
      const scale = sampledRows > 0 ? (rows - FULL_PROFILE_ROWS) / sampledRows : 0
      const columnFacts = columns.map((column, i) => describeColumn(names[i] ?? `column_${i + 1}`, column, scale))
      return { columnFacts, sampled: rows > FULL_PROFILE_ROWS }
    },
  }
}

/**
 * Names columns from a header row: trimmed, blank ones `column_<n>`,
 * duplicates `name_2`, `name_3`; without a header `column_1..n`.
 */
export function nameColumns(header: readonly string[] | undefined, count: number): string[] {
  const used = new Set<string>()
  const suffixes = new Map<string, number>()
  const names: string[] = []
  for (let i = 0; i < Math.min(count, MAX_PROFILED_COLUMNS); i++) {
    const raw = (header?.[i] ?? '').trim()
    const name = raw === '' ? `column_${i + 1}` : copyString(raw.slice(0, MAX_NAME_CHARS))
    let unique = name
    let suffix = suffixes.get(name) ?? 1
    while (used.has(unique)) unique = `${name}_${++suffix}`
    suffixes.set(name, suffix)
    used.add(unique)
    names.push(unique)
  }
  return names
}

/**
 * True when the first row reads as column names: no cell is a number or a
 * date (blank cells are allowed: pandas writes one over its index column),
 * and either some column below holds numbers, dates or booleans, or no name
 * reappears as a value in its own column.
 */
export function looksLikeHeader(firstRow: readonly string[], laterRows: readonly (readonly string[])[]): boolean {
  let named = 0
  for (const cell of firstRow) {
    if (isNullValue(cell)) continue
    if (classifyValue(cell) & (NUMERIC | DATES)) return false
    named++
  }
  if (named === 0) return false
  let typed = 0
  let repeats = 0
  for (let c = 0; c < firstRow.length; c++) {
    let kinds = 0
    for (const row of laterRows) {
      const value = row[c]
      if (value !== undefined && !isNullValue(value)) kinds |= classifyValue(value)
    }
    const type = typeOfKinds(kinds)
    if (type !== 'text' && type !== 'empty') typed++
    const name = (firstRow[c] as string).trim()
    if (name !== '' && laterRows.some((row) => row[c]?.trim() === name)) repeats++
  }
  return typed > 0 || repeats === 0
}

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

function createColumnState(nulls: number, sampledNulls: number): ColumnState {
  return {
    nulls, sampledNulls, kinds: 0, numbers: 0, sum: 0, min: Infinity, max: -Infinity,
    earliest: Infinity, latest: -Infinity, earliestHasTime: false, latestHasTime: false,
    dmyMin: Infinity, dmyMax: -Infinity, mdyMin: Infinity, mdyMax: -Infinity, notDmy: false, notMdy: false,
    hashes: new Int32Array(64), distinct: 0, sketch: null, samples: [],
  }
}

/** Profiles one value; true when it is a null (the caller counts those). */
function observeValue(column: ColumnState, value: string): boolean {
  if (isNullValue(value)) return true
  countDistinct(column, value)
  if (column.samples.length < MAX_SAMPLES) addSample(column, value)
  if ((column.kinds & TEXT) === 0) addValue(column, value)
  return false
}

/** Folds a non-null value into the column's type and its number or date stats. */
function addValue(column: ColumnState, value: string): void {
  const kind = classifyValue(value)
  if ((column.kinds | kind) !== column.kinds) {
    const kinds = column.kinds | kind
    column.kinds = typeOfKinds(kinds) === 'text' ? kinds | TEXT : kinds
    if (column.kinds & TEXT) return
  }
  if (kind & NUMERIC) addNumber(column)
  else if (kind === DATE) addDate(column)
  else if (kind === AMBIGUOUS_DATE) addAmbiguousDate(column)
}

function addNumber(column: ColumnState): void {
  column.numbers++
  const value = parsed[NUMBER] as number
  column.sum += value
  if (value < column.min) column.min = value
  if (value > column.max) column.max = value
}

function addDate(column: ColumnState): void {
  const time = parsed[TIME] as number
  if (time < column.earliest) {
    column.earliest = time
    column.earliestHasTime = parsedHasTime
  }
  if (time > column.latest) {
    column.latest = time
    column.latestHasTime = parsedHasTime
  }
}

function addAmbiguousDate(column: ColumnState): void {
  const dmy = parsed[DMY] as number
  const mdy = parsed[MDY] as number
  if (Number.isNaN(dmy)) column.notDmy = true
  else {
    column.dmyMin = Math.min(column.dmyMin, dmy)
    column.dmyMax = Math.max(column.dmyMax, dmy)
  }
  if (Number.isNaN(mdy)) column.notMdy = true
  else {
    column.mdyMin = Math.min(column.mdyMin, mdy)
    column.mdyMax = Math.max(column.mdyMax, mdy)
  }
}

/** `scale` is how many rows each sampled row stands for. */
function describeColumn(name: string, column: ColumnState, scale: number): ColumnFacts {
  const order = column.notMdy && !column.notDmy ? 'dmy' : column.notDmy && !column.notMdy ? 'mdy' : undefined
  let type = typeOfKinds(column.kinds)
  // Slash dates are only dates when some value settles which number is the day.
  if (type === 'date' && column.kinds & AMBIGUOUS_DATE && order === undefined) type = 'text'
  const nulls = column.nulls + Math.round(column.sampledNulls * scale)
  const facts: ColumnFacts = { name, type, nulls, distinct: countOf(column), samples: column.samples }
  if (type === 'integer' || type === 'number') {
    facts.min = column.min
    facts.max = column.max
    facts.mean = column.sum / column.numbers
  } else if (type === 'date') {
    const earliest = Math.min(column.earliest, order === 'dmy' ? column.dmyMin : order === 'mdy' ? column.mdyMin : Infinity)
    const latest = Math.max(column.latest, order === 'dmy' ? column.dmyMax : order === 'mdy' ? column.mdyMax : -Infinity)
    facts.earliest = formatDate(earliest, earliest === column.earliest && column.earliestHasTime)
    facts.latest = formatDate(latest, latest === column.latest && column.latestHasTime)
  }
  return facts
}

function typeOfKinds(kinds: number): ColumnType {
  if (kinds === 0) return 'empty'
  if (kinds & TEXT) return 'text'
  if ((kinds & NUMERIC) === kinds) return kinds === INT ? 'integer' : 'number'
  if (kinds === BOOL) return 'boolean'
  if ((kinds & DATES) === kinds) return 'date'
  return 'text'
}

function formatDate(time: number, hasTime: boolean): string {
  const iso = new Date(Math.round(time)).toISOString()
  return hasTime ? iso : iso.slice(0, 10)
}

// ---- distinct values ----

/** A hash table of our own: a JS Set of numbers costs about twice as much per add. */
function countDistinct(column: ColumnState, value: string): void {
  const hash = hashString(value) || 1
  const table = column.hashes
  if (table === null) return addToSketch(column.sketch as Uint8Array, hash)
  const mask = table.length - 1
  let slot = hash & mask
  for (let seen = table[slot] as number; seen !== 0; seen = table[slot] as number) {
    if (seen === hash) return
    slot = (slot + 1) & mask
  }
  table[slot] = hash
  if (++column.distinct * 2 > table.length) growHashes(column, table)
}

function growHashes(column: ColumnState, old: Int32Array): void {
  if (column.distinct > EXACT_DISTINCT_LIMIT) {
    const sketch = new Uint8Array(1 << SKETCH_BITS)
    for (const hash of old) if (hash !== 0) addToSketch(sketch, hash)
    column.hashes = null
    column.sketch = sketch
    return
  }
  const table = new Int32Array(old.length * 2)
  const mask = table.length - 1
  for (const hash of old) {
    if (hash === 0) continue
    let slot = hash & mask
    while (table[slot] !== 0) slot = (slot + 1) & mask
    table[slot] = hash
  }
  column.hashes = table
}

function countOf(column: ColumnState): number {
  if (column.hashes !== null) return column.distinct
  const sketch = column.sketch as Uint8Array
  const m = sketch.length
  let sum = 0
  let zeros = 0
  for (const register of sketch) {
    sum += 2 ** -register
    if (register === 0) zeros++
  }
  const estimate = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum
  // Linear counting is the more accurate of the two for small cardinalities.
  return Math.round(estimate <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : estimate)
}

function addToSketch(sketch: Uint8Array, hash: number): void {
  const index = hash >>> (32 - SKETCH_BITS)
  const rank = Math.min(Math.clz32((hash << SKETCH_BITS) >>> 0), 32 - SKETCH_BITS) + 1
  if (rank > (sketch[index] as number)) sketch[index] = rank
}

/** FNV-1a with murmur3's finaliser, which spreads the bits well enough for HyperLogLog. */
function hashString(value: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  // Signed 32-bit: a small integer (Smi) to V8, never a heap number.
  return h ^ (h >>> 16)
}

function addSample(column: ColumnState, value: string): void {
  let sample = value
  if (value.length > MAX_SAMPLE_CHARS) {
    const cut = isHighSurrogate(value.charCodeAt(MAX_SAMPLE_CHARS - 2)) ? MAX_SAMPLE_CHARS - 2 : MAX_SAMPLE_CHARS - 1
    sample = `${value.slice(0, cut)}…`
  }
  if (!column.samples.includes(sample)) column.samples.push(copyString(sample))
}

/**
 * A fresh copy of a string. Parsed fields are slices of the parser's whole
 * input chunk, and keeping a slice keeps the chunk alive: samples and names
 * are kept to the end, so they must not pin 64 KiB each.
 */
function copyString(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8')
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

// ---- classifying one value ----

/** The kind of a non-null value; leaves numbers and dates in `parsed`. */
function classifyValue(value: string): number {
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

/** ISO 8601 (date, optional time and zone), yyyy/mm/dd, d.m.yyyy, and d/m/yyyy or m/d/yyyy (ambiguous). */
function scanDate(s: string, start: number, end: number): number {
  const sep = s.charCodeAt(start + 4)
  if ((sep === 45 || sep === 47) && end - start >= 10 && s.charCodeAt(start + 7) === sep) {
    const year = fourDigitsAt(s, start)
    const month = twoDigitsAt(s, start + 5)
    const day = twoDigitsAt(s, start + 8)
    if (year < 0 || !isValidDate(year, month, day)) return TEXT
    parsed[TIME] = utcDay(year, month, day)
    parsedHasTime = false
    if (start + 10 === end) return DATE
    const mark = s.charCodeAt(start + 10)
    if (sep !== 45 || (mark !== 84 && mark !== 32)) return TEXT // 'T' or ' ' before an ISO time
    const time = scanTime(s, start + 11, end)
    if (Number.isNaN(time)) return TEXT
    parsed[TIME] = (parsed[TIME] as number) + time
    parsedHasTime = true
    return DATE
  }
  return scanDayMonthYear(s, start, end)
}

function scanDayMonthYear(s: string, start: number, end: number): number {
  const firstLength = isDigit(s.charCodeAt(start + 1)) ? 2 : 1
  const sep = s.charCodeAt(start + firstLength)
  if (sep !== 47 && sep !== 45 && sep !== 46) return TEXT // / - .
  const secondStart = start + firstLength + 1
  const secondLength = isDigit(s.charCodeAt(secondStart + 1)) ? 2 : 1
  const yearStart = secondStart + secondLength + 1
  if (yearStart + 4 !== end || s.charCodeAt(yearStart - 1) !== sep) return TEXT
  const a = firstLength === 2 ? twoDigitsAt(s, start) : digitAt(s, start)
  const b = secondLength === 2 ? twoDigitsAt(s, secondStart) : digitAt(s, secondStart)
  const year = fourDigitsAt(s, yearStart)
  if (a < 0 || b < 0 || year < 0) return TEXT
  const dmy = isValidDate(year, b, a) ? utcDay(year, b, a) : Number.NaN
  if (sep === 46) {
    // Dotted dates are day first wherever they are written.
    if (Number.isNaN(dmy)) return TEXT
    parsed[TIME] = dmy
    parsedHasTime = false
    return DATE
  }
  const mdy = isValidDate(year, a, b) ? utcDay(year, a, b) : Number.NaN
  if (Number.isNaN(dmy) && Number.isNaN(mdy)) return TEXT
  parsed[DMY] = dmy
  parsed[MDY] = mdy
  return AMBIGUOUS_DATE
}

/** hh:mm[:ss[.fff]][Z|+hh[:mm]|-hh[:mm]] from `i` to `end` as milliseconds (UTC when a zone is given), NaN if not a time. */
function scanTime(s: string, i: number, end: number): number {
  const hours = twoDigitsAt(s, i)
  const minutes = twoDigitsAt(s, i + 3)
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || s.charCodeAt(i + 2) !== 58) return Number.NaN
  let ms = (hours * 60 + minutes) * 60_000
  i += 5
  if (s.charCodeAt(i) === 58) {
    const seconds = twoDigitsAt(s, i + 1)
    if (seconds < 0 || seconds > 60) return Number.NaN
    ms += seconds * 1000
    i += 3
    if (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44) {
      const fracStart = ++i
      for (let scale = 100; i < end && isDigit(s.charCodeAt(i)); i++, scale /= 10) ms += (s.charCodeAt(i) - 48) * scale
      if (i === fracStart) return Number.NaN
    }
  }
  if (i === end) return ms
  const zone = s.charCodeAt(i)
  if (zone === 90 && i + 1 === end) return ms // Z
  if (zone !== 43 && zone !== 45) return Number.NaN
  const offsetHours = twoDigitsAt(s, i + 1)
  let j = i + 3
  if (s.charCodeAt(j) === 58) j++
  const offsetMinutes = j === end ? 0 : j + 2 === end ? twoDigitsAt(s, j) : -1
  if (offsetHours < 0 || offsetMinutes < 0) return Number.NaN
  const offset = (offsetHours * 60 + offsetMinutes) * 60_000
  return zone === 43 ? ms - offset : ms + offset
}

/** The number written by the two digits at `i`, or -1. */
function twoDigitsAt(s: string, i: number): number {
  const tens = s.charCodeAt(i) - 48
  const ones = s.charCodeAt(i + 1) - 48
  // Past the end charCodeAt gives NaN, which fails these comparisons too.
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1
}

function digitAt(s: string, i: number): number {
  const digit = s.charCodeAt(i) - 48
  return digit >= 0 && digit <= 9 ? digit : -1
}

function fourDigitsAt(s: string, i: number): number {
  const high = twoDigitsAt(s, i)
  const low = twoDigitsAt(s, i + 2)
  return high < 0 || low < 0 ? -1 : high * 100 + low
}

function isValidDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
  return day <= days
}

/** Milliseconds since 1970 at midnight UTC; integer arithmetic (days_from_civil) is several times faster than Date.UTC. */
function utcDay(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return (era * 146097 + dayOfEra - 719468) * 86_400_000
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9
}
