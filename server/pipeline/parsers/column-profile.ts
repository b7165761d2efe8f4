/**
 * Streaming column profiler for tables (CSV records, spreadsheet rows): feed
 * it rows of strings, get one ColumnFacts per column. Column names and values
 * only ever land in arrays, Sets of hashes and numbers, never as object keys,
 * so a column called `__proto__` is just a string.
 *
 * Cost rule (measured): every row of the first 10,000 is profiled, then
 * every 10th; the others are only counted. Row counts stay exact;
 * everything else comes from the profiled rows, and null counts past row
 * 10,000 are scaled up from the sample (an estimate then). The parsing notes
 * put the cut at 50,000; in a parser process that starts with a cold JIT,
 * profiling was the largest cost of a 10 MB file (60,000 rows), and 10,000
 * rows settle a column's type as well.
 *
 * distinct (distinct-counter.ts) counts the distinct values among the
 * profiled rows. When the table is sampled that is the count in the sample,
 * so it undercounts columns that are unique across the file.
 *
 * The hot path is per cell: values are classified by classify-value.ts,
 * which reports through a module-level scratch array (value-kinds.ts)
 * instead of allocating a result per cell.
 */
import type { ColumnFacts } from '../parsed.ts'
import { classifyValue, isNullValue } from './classify-value.ts'
import { copyString } from './copy-string.ts'
import { countDistinct, distinctCount, newHashTable, type DistinctCounter } from './distinct-counter.ts'
import { AMBIGUOUS_DATE, DATE, DMY, HAS_TIME, MDY, NUMBER, NUMERIC, parsed, TEXT, TIME, typeOfKinds } from './value-kinds.ts'

export const FULL_PROFILE_ROWS = 10_000
export const SAMPLE_EVERY = 10
/** Columns past this are counted but not named or profiled: the facts must stay a small summary. */
export const MAX_PROFILED_COLUMNS = 1000
const MAX_SAMPLES = 5
const MAX_SAMPLE_CHARS = 80

/** The distinct counter's fields sit in the column state itself: one object per column, no indirection per cell. */
type ColumnState = DistinctCounter & {
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

function createColumnState(nulls: number, sampledNulls: number): ColumnState {
  return {
    nulls, sampledNulls, kinds: 0, numbers: 0, sum: 0, min: Infinity, max: -Infinity,
    earliest: Infinity, latest: -Infinity, earliestHasTime: false, latestHasTime: false,
    dmyMin: Infinity, dmyMax: -Infinity, mdyMin: Infinity, mdyMax: -Infinity, notDmy: false, notMdy: false,
    hashes: newHashTable(), distinct: 0, sketch: null, samples: [],
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
    column.earliestHasTime = parsed[HAS_TIME] === 1
  }
  if (time > column.latest) {
    column.latest = time
    column.latestHasTime = parsed[HAS_TIME] === 1
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
  const facts: ColumnFacts = { name, type, nulls, distinct: distinctCount(column), samples: column.samples }
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

function formatDate(time: number, hasTime: boolean): string {
  const iso = new Date(Math.round(time)).toISOString()
  return hasTime ? iso : iso.slice(0, 10)
}

function addSample(column: ColumnState, value: string): void {
  let sample = value
  if (value.length > MAX_SAMPLE_CHARS) {
    const cut = isHighSurrogate(value.charCodeAt(MAX_SAMPLE_CHARS - 2)) ? MAX_SAMPLE_CHARS - 2 : MAX_SAMPLE_CHARS - 1
    sample = `${value.slice(0, cut)}…`
  }
  if (!column.samples.includes(sample)) column.samples.push(copyString(sample))
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}
