/**
 * The text of a CSV file as sections of 500 rows, re-serialised as CSV with
 * the header on top, until a byte budget is spent. Each row becomes its line
 * as it arrives (a plain loop: Papa.unparse cost as much as the parse itself
 * on a 10 MB file), so only one section's lines are held at a time.
 */
import type { TextSection } from '../parsed.ts'

const SECTION_ROWS = 500

export type SectionWriter = {
  add(row: string[], header: string[] | undefined): void
  finish(header: string[] | undefined): { sections: TextSection[]; textTruncated: boolean }
}

/** One CSV record: a field is quoted (quotes doubled) when it holds the delimiter, a quote or a line break. */
export function toCsvLine(row: readonly string[], delimiter: string): string {
  let line = ''
  for (let i = 0; i < row.length; i++) {
    const field = row[i] as string
    if (i > 0) line += delimiter
    if (field.includes('"')) line += `"${field.replaceAll('"', '""')}"`
    else if (field.includes(delimiter) || field.includes('\n') || field.includes('\r')) line += `"${field}"`
    else line += field
  }
  return line
}

/** Sections of 500 rows as CSV with the header on top, until `maxBytes` of UTF-8 in total. */
export function createSectionWriter(delimiter: string, maxBytes: number): SectionWriter {
  const sections: TextSection[] = []
  let lines: string[] = []
  let firstRow = 1
  let usedBytes = 0
  let truncated = false
  let headerLine: string | undefined
  let headerBytes = 0

  function flush(): void {
    if (lines.length === 0) return
    const body = lines.join('\n')
    const text = headerLine === undefined ? body : `${headerLine}\n${body}`
    sections.push({ title: `rows ${firstRow}-${firstRow + lines.length - 1}`, text })
    firstRow += lines.length
    lines = []
  }

  return {
    add(row, header) {
      if (truncated) return
      if (headerLine === undefined && header) {
        headerLine = toCsvLine(header, delimiter)
        headerBytes = Buffer.byteLength(headerLine) + 1
      }
      const line = toCsvLine(row, delimiter)
      // A section opens with the header; each line adds itself and its newline.
      const cost = Buffer.byteLength(line) + 1 + (lines.length === 0 ? headerBytes : 0)
      if (usedBytes + cost > maxBytes) {
        truncated = true
        flush()
        return
      }
      usedBytes += cost
      lines.push(line)
      if (lines.length === SECTION_ROWS) flush()
    },
    finish() {
      flush()
      return { sections, textTruncated: truncated }
    },
  }
}
