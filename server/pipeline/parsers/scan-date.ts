/**
 * Date and time recognisers for one cell, with char-code checks and integer
 * date arithmetic: they run per cell, where a regex or Date.UTC costs
 * several times more. Results go to the `parsed` scratch (value-kinds.ts).
 */
import { AMBIGUOUS_DATE, DATE, DMY, HAS_TIME, MDY, parsed, TEXT, TIME } from './value-kinds.ts'

/** ISO 8601 (date, optional time and zone), yyyy/mm/dd, d.m.yyyy, and d/m/yyyy or m/d/yyyy (ambiguous). */
export function scanDate(s: string, start: number, end: number): number {
  const sep = s.charCodeAt(start + 4)
  if ((sep === 45 || sep === 47) && end - start >= 10 && s.charCodeAt(start + 7) === sep) {
    const year = fourDigitsAt(s, start)
    const month = twoDigitsAt(s, start + 5)
    const day = twoDigitsAt(s, start + 8)
    if (year < 0 || !isValidDate(year, month, day)) return TEXT
    parsed[TIME] = utcDay(year, month, day)
    parsed[HAS_TIME] = 0
    if (start + 10 === end) return DATE
    const mark = s.charCodeAt(start + 10)
    if (sep !== 45 || (mark !== 84 && mark !== 32)) return TEXT // 'T' or ' ' before an ISO time
    const time = scanTime(s, start + 11, end)
    if (Number.isNaN(time)) return TEXT
    parsed[TIME] = (parsed[TIME] as number) + time
    parsed[HAS_TIME] = 1
    return DATE
  }
  return scanDayMonthYear(s, start, end)
}

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57
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
    parsed[HAS_TIME] = 0
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
