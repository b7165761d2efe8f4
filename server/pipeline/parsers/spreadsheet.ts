/**
 * Spreadsheets: xlsx, xlsm, xlsb, ods (zip containers) and xls (OLE2/CFB).
 * Up to limits.wholeFileBytes the file is read into one Buffer, zip formats
 * pass the zip guard, and SheetJS parses it in dense mode (its sparse mode
 * did not finish a 50 MiB xlsx in 600 s). Past that, the file is spooled to
 * the temp dir and only the zip directory and sheet list are read
 * (spreadsheet-names.ts).
 *
 * Nothing trusts a sheet's declared range (`<dimension ref="A1:XFD1048576">`
 * costs a crafted file nothing): rows come from the dense row array, at most
 * MAX_PROFILED_COLUMNS columns of each are read (sheet-facts.ts), and the
 * text is made from ranges clipped to the data (sheet-text.ts). Sheet names
 * stay array values, never keys.
 */
import type { Readable } from 'node:stream'
import * as XLSX from 'xlsx'
import { ParseError, type Parser, type ParserOutput, type SheetFacts, type SpreadsheetFacts, type TextSection } from '../parsed.ts'
import { MAX_PROFILED_COLUMNS } from './column-profile.ts'
import { measureSheet, profileSheet } from './sheet-facts.ts'
import { sheetText } from './sheet-text.ts'
import { FORMAT_NAMES, identifyFormat, type Format } from './spreadsheet-format.ts'
import { describeFromDirectory } from './spreadsheet-names.ts'

const READ_OPTIONS: XLSX.ParsingOptions & { nodim: boolean } = {
  type: 'buffer',
  dense: true,
  cellHTML: false,
  cellFormula: false,
  cellStyles: false,
  cellNF: false,
  cellText: false,
  cellDates: true,
  sheetStubs: false,
  bookVBA: false,
  // Work out ranges from the cells, not from the file's <dimension> claim.
  nodim: true,
}

export const parseSpreadsheet: Parser = async (input) => {
  try {
    if (input.size > input.limits.wholeFileBytes) return await describeFromDirectory(input)
    const bytes = await readWhole(input.source, input.limits.wholeFileBytes)
    const format = await identifyFormat(bytes, input)
    const workbook = readWorkbook(bytes)
    return describeWorkbook(workbook, format, input.limits.maxTextBytes)
  } finally {
    input.source.destroy()
  }
}

async function readWhole(source: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of source as AsyncIterable<Buffer>) {
    length += chunk.length
    if (length > maxBytes) throw new ParseError('corrupt_file', 'the file holds more bytes than its recorded size')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, length)
}

function readWorkbook(bytes: Buffer): XLSX.WorkBook {
  try {
    return XLSX.read(bytes, READ_OPTIONS)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const reason = /password|encrypt/i.test(message) ? 'it is password-protected' : 'it is damaged or truncated'
    throw new ParseError('corrupt_file', `the workbook could not be read: ${reason}`, { cause: error })
  }
}

function describeWorkbook(workbook: XLSX.WorkBook, format: Format, maxTextBytes: number): ParserOutput {
  const sheetNames = [...workbook.SheetNames]
  const sheets: SheetFacts[] = []
  const sections: TextSection[] = []
  const notes: string[] = []
  let budget = maxTextBytes
  let textTruncated = false
  for (const name of sheetNames) {
    const sheet = workbook.Sheets[name]
    const layout = measureSheet(sheet)
    const facts = profileSheet(name, layout)
    sheets.push(facts)
    if (facts.sampled) notes.push(`sheet ${JSON.stringify(name)}: column facts come from a sample of its rows`)
    if (facts.columns > MAX_PROFILED_COLUMNS) notes.push(`sheet ${JSON.stringify(name)}: only the first ${MAX_PROFILED_COLUMNS} of ${facts.columns} columns were read`)
    if (!sheet || layout.rows.length === 0 || textTruncated) continue
    const text = sheetText(sheet, layout, budget)
    if (text.text !== '') sections.push({ title: name, text: text.text })
    budget -= Buffer.byteLength(text.text)
    textTruncated = text.truncated
  }
  const facts: SpreadsheetFacts = { kind: 'spreadsheet', format, sheetNames, sheets }
  return { format: FORMAT_NAMES.get(format) as string, facts, sections, textTruncated, notes }
}
