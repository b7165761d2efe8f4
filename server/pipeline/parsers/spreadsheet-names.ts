/**
 * A workbook over limits.wholeFileBytes: spooled to the temp dir (deleted
 * again before returning), then only the zip directory and the sheet list
 * are read, never the sheets (no SheetJS). An xls says no more than its
 * size and type.
 */
import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { ParseInput, ParserOutput, SpreadsheetFacts } from '../parsed.ts'
import { CFB_MAGIC, FORMAT_NAMES, identifyZipFormat, notASpreadsheet, ZIP_MAGIC, type Format } from './spreadsheet-format.ts'
import { readZipWorkbook } from './zip-guard.ts'

/** Over the whole-file cap: spool to disk, then read the zip directory and sheet list only (no SheetJS). */
export async function describeFromDirectory({ source, size, filename, limits, tmpDir }: ParseInput): Promise<ParserOutput> {
  const path = join(tmpDir, `spreadsheet-${randomUUID()}`)
  try {
    await pipeline(source, createWriteStream(path))
    const head = await readHead(path, 8)
    let format: Format = 'xls'
    let sheetNames: string[] = []
    if (head.subarray(0, 4).equals(ZIP_MAGIC)) {
      const workbook = await readZipWorkbook(path, limits)
      format = identifyZipFormat(workbook.entryNames, filename)
      sheetNames = workbook.sheetNames
    } else if (!head.equals(CFB_MAGIC)) throw notASpreadsheet()
    const read = sheetNames.length > 0 ? 'only sheet names were read' : 'only its size and type were read'
    const reason = `the workbook is ${formatSize(size)}, over the ${formatSize(limits.wholeFileBytes)} limit for reading spreadsheets in full: ${read}`
    const facts: SpreadsheetFacts = { kind: 'spreadsheet', format, sheetNames, sheets: [] }
    return { format: FORMAT_NAMES.get(format) as string, facts, sections: [], textTruncated: false, partial: { reason }, notes: [] }
  } finally {
    await rm(path, { force: true })
  }
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const file = await open(path)
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
}

function formatSize(bytes: number): string {
  const unit = bytes >= 1024 * 1024 ? 'MiB' : 'KiB'
  return `${+(bytes / (unit === 'MiB' ? 1024 * 1024 : 1024)).toFixed(1)} ${unit}`
}
