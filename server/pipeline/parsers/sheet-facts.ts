/**
 * One sheet's facts: where its data is (measureSheet) and its rows, columns,
 * header and column profile (profileSheet). Nothing trusts the sheet's
 * declared range: rows come from SheetJS's dense row array, and at most
 * MAX_PROFILED_COLUMNS cells of each row are read.
 */
import type * as XLSX from 'xlsx'
import type { SheetFacts } from '../parsed.ts'
import { createColumnProfiler, MAX_PROFILED_COLUMNS } from './column-profile.ts'
import { looksLikeHeader, nameColumns } from './table-header.ts'

const HEADER_PROBE_ROWS = 50

type Cell = XLSX.CellObject | undefined
/** `rows`: indexes of the rows holding a value; `firstColumn` and `width`: the columns that do. */
export type SheetLayout = { data: Cell[][]; rows: number[]; firstColumn: number; width: number }

/** Where the data is, from the rows that exist: the declared range is not trusted. */
export function measureSheet(sheet: XLSX.WorkSheet | undefined): SheetLayout {
  const data = (Array.isArray(sheet?.['!data']) ? sheet['!data'] : []) as Cell[][]
  const rows: number[] = []
  let firstColumn = Infinity
  let lastColumn = -1
  for (let r = 0; r < data.length; r++) {
    const row = data[r]
    if (!Array.isArray(row) || row.length === 0) continue
    // Only the first MAX_PROFILED_COLUMNS cells are searched: a row's far cells are counted, not read.
    const first = row.findIndex((cell, c) => c >= MAX_PROFILED_COLUMNS || hasValue(cell))
    if (first < 0) continue
    rows.push(r)
    if (first < MAX_PROFILED_COLUMNS) firstColumn = Math.min(firstColumn, first)
    lastColumn = Math.max(lastColumn, row.length - 1)
  }
  if (rows.length === 0) return { data, rows, firstColumn: 0, width: 0 }
  if (firstColumn === Infinity) firstColumn = 0
  return { data, rows, firstColumn, width: lastColumn - firstColumn + 1 }
}

/**
 * Every row is read (a sheet has at most 1,048,576 in Excel and LibreOffice)
 * so that row and null counts are exact; the profiler samples past 10,000.
 */
export function profileSheet(name: string, layout: SheetLayout): SheetFacts {
  const readRow = (r: number) => rowValues(layout.data[r] as Cell[], layout.firstColumn, layout.width)
  const probe = layout.rows.slice(0, HEADER_PROBE_ROWS + 1).map(readRow)
  const hasHeader = probe.length > 0 && looksLikeHeader(probe[0] as string[], probe.slice(1))
  const header = hasHeader ? probe[0] : undefined
  const profiler = createColumnProfiler()
  let ragged = 0
  for (let i = hasHeader ? 1 : 0; i < layout.rows.length; i++) {
    const values = i < probe.length ? (probe[i] as string[]) : readRow(layout.rows[i] as number)
    // Sheets do not store trailing empty cells, so short rows are normal: ragged means data right of the header.
    if (header && values.length > header.length) ragged++
    profiler.addRow(values)
  }
  const columnNames = nameColumns(header, layout.width)
  const { columnFacts, sampled } = profiler.finish(columnNames)
  const rows = profiler.rowCount()
  return { name, rows, columns: layout.width, hasHeader, columnNames, columnFacts, raggedRows: ragged, sampled }
}

/** The row's values as text, without trailing empty cells, at most MAX_PROFILED_COLUMNS. */
function rowValues(row: Cell[], firstColumn: number, width: number): string[] {
  const end = Math.min(row.length, firstColumn + Math.min(width, MAX_PROFILED_COLUMNS))
  const values: string[] = []
  for (let c = firstColumn; c < end; c++) values.push(cellText(row[c]))
  while (values.length > 0 && values[values.length - 1] === '') values.pop()
  return values
}

function hasValue(cell: Cell): boolean {
  return cell !== undefined && cell !== null && cell.v !== undefined && cell.v !== null && cell.v !== ''
}

/** Raw values as the profiler reads them: numbers unformatted, dates ISO, errors (#N/A, #DIV/0!) as missing. */
function cellText(cell: Cell): string {
  if (!hasValue(cell)) return ''
  const { t: type, v: value } = cell as XLSX.CellObject
  if (type === 's') return String(value)
  if (type === 'n') return String(value)
  if (type === 'b') return value ? 'true' : 'false'
  if (type === 'd' && value instanceof Date && !Number.isNaN(value.getTime())) {
    const iso = value.toISOString()
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso
  }
  return ''
}
