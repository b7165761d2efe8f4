/**
 * What one table cell can be, as bits so that a column's kinds combine with
 * `|`, and the scratch array where the recognisers (classify-value.ts,
 * scan-date.ts) leave the number or date they read.
 */
import type { ColumnType } from '../parsed.ts'

export const INT = 1
export const NUM = 2
export const BOOL = 4
export const DATE = 8
/** d/m/y or m/d/y with the year last: the column decides which, if it can. */
export const AMBIGUOUS_DATE = 16
export const TEXT = 32
export const NUMERIC = INT | NUM
export const DATES = DATE | AMBIGUOUS_DATE

/**
 * Scratch results of classifyValue(), read right after the call. A typed
 * array, because storing a double in a module-level `let` boxes it: one
 * heap allocation per cell. Shared by module, not passed around, so that
 * classifying a cell allocates nothing.
 */
export const parsed = new Float64Array(5)
export const NUMBER = 0
/** A DATE as milliseconds since 1970 (UTC). */
export const TIME = 1
/** An AMBIGUOUS_DATE read day first, or NaN if that is no date. */
export const DMY = 2
/** An AMBIGUOUS_DATE read month first, or NaN if that is no date. */
export const MDY = 3
/** 1 when the DATE at TIME carried a time of day, else 0. */
export const HAS_TIME = 4

/** The column type that values of these kinds make together. */
export function typeOfKinds(kinds: number): ColumnType {
  if (kinds === 0) return 'empty'
  if (kinds & TEXT) return 'text'
  if ((kinds & NUMERIC) === kinds) return kinds === INT ? 'integer' : 'number'
  if (kinds === BOOL) return 'boolean'
  if ((kinds & DATES) === kinds) return 'date'
  return 'text'
}
