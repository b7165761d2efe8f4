/**
 * A sheet's text for the output sections: CSV of its formatted values,
 * clipped to the data and cut at a byte budget.
 */
import * as XLSX from 'xlsx'
import { MAX_PROFILED_COLUMNS } from './column-profile.ts'
import type { SheetLayout } from './sheet-facts.ts'

const TEXT_BATCH_ROWS = 500

/**
 * The sheet as CSV (formatted values, as a person sees them), made by
 * sheet_to_csv over runs of rows clipped to the data, so that blank
 * stretches and a huge declared range cost nothing; cut at `budget` bytes.
 */
export function sheetText(sheet: XLSX.WorkSheet, layout: SheetLayout, budget: number): { text: string; truncated: boolean } {
  const declared = sheet['!ref']
  const lastColumn = layout.firstColumn + Math.min(layout.width, MAX_PROFILED_COLUMNS) - 1
  const parts: string[] = []
  let used = 0
  try {
    for (const [first, last] of listRowRuns(layout.rows, TEXT_BATCH_ROWS)) {
      sheet['!ref'] = XLSX.utils.encode_range({ s: { r: first, c: layout.firstColumn }, e: { r: last, c: lastColumn } })
      const csv = XLSX.utils.sheet_to_csv(sheet, { blankrows: false })
      const bytes = Buffer.byteLength(csv) + (parts.length > 0 ? 1 : 0)
      if (used + bytes > budget) {
        const fitted = fitLines(csv, budget - used - (parts.length > 0 ? 1 : 0))
        if (fitted !== '') parts.push(fitted)
        return { text: parts.join('\n'), truncated: true }
      }
      parts.push(csv)
      used += bytes
    }
    return { text: parts.join('\n'), truncated: false }
  } finally {
    sheet['!ref'] = declared
  }
}

/** Runs of consecutive row indexes, at most `max` long: sheet_to_csv walks every row of a range, data or not. */
function listRowRuns(rows: readonly number[], max: number): [number, number][] {
  const runs: [number, number][] = []
  for (let i = 0; i < rows.length; ) {
    const first = rows[i] as number
    let last = first
    while (++i < rows.length && rows[i] === last + 1 && last - first + 1 < max) last++
    runs.push([first, last])
  }
  return runs
}

/** The longest run of whole lines of `text` within `maxBytes` of UTF-8. */
function fitLines(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return ''
  const bytes = Buffer.from(text)
  const cut = bytes.subarray(0, maxBytes + 1).lastIndexOf(0x0a)
  return cut <= 0 ? '' : bytes.subarray(0, cut).toString('utf8')
}
