/**
 * A table's first row: whether it names the columns (looksLikeHeader), and
 * the column names made from it (nameColumns). Shared by CSV and
 * spreadsheets. Names stay array values, never object keys.
 */
import { MAX_PROFILED_COLUMNS } from './column-profile.ts'
import { classifyValue, isNullValue } from './classify-value.ts'
import { copyString } from './copy-string.ts'
import { DATES, NUMERIC, typeOfKinds } from './value-kinds.ts'

const MAX_NAME_CHARS = 200

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
