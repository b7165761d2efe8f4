/**
 * The text of a CSV file as sections of 500 rows, re-serialised as CSV with
 * the header on top, until a byte budget is spent. Holds one section's rows
 * at a time.
 */
import Papa from 'papaparse'
import type { TextSection } from '../parsed.ts'

const SECTION_ROWS = 500

export type SectionWriter = {
  add(row: string[], header: string[] | undefined): void
  finish(header: string[] | undefined): { sections: TextSection[]; textTruncated: boolean }
}

/** Sections of 500 rows as CSV with the header on top, until `maxBytes` of UTF-8 in total. */
export function createSectionWriter(delimiter: string, maxBytes: number): SectionWriter {
  const sections: TextSection[] = []
  let rows: string[][] = []
  let firstRow = 1
  let usedBytes = 0
  let truncated = false
  function flush(header: string[] | undefined): void {
    if (rows.length === 0 || truncated) return
    const serialize = (count: number) => Papa.unparse(header ? [header, ...rows.slice(0, count)] : rows.slice(0, count), { delimiter, newline: '\n' })
    let count = rows.length
    let text = serialize(count)
    if (usedBytes + Buffer.byteLength(text) > maxBytes) {
      truncated = true
      count = countRowsThatFit((n) => usedBytes + Buffer.byteLength(serialize(n)) <= maxBytes, rows.length)
      text = serialize(count)
    }
    if (count > 0) sections.push({ title: `rows ${firstRow}-${firstRow + count - 1}`, text })
    usedBytes += Buffer.byteLength(text)
    firstRow += rows.length
    rows = []
  }
  return {
    add(row, header) {
      if (truncated) return
      rows.push(row)
      if (rows.length === SECTION_ROWS) flush(header)
    },
    finish(header) {
      flush(header)
      return { sections, textTruncated: truncated }
    },
  }
}

/** The largest n in 0..max with fits(n), fits being monotonic: a binary search, as serialising is not cheap. */
function countRowsThatFit(fits: (n: number) => boolean, max: number): number {
  let low = 0
  let high = max
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (fits(mid)) low = mid
    else high = mid - 1
  }
  return low
}
