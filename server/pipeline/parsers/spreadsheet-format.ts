/**
 * Which spreadsheet format a file is, from its magic bytes and, for zip
 * containers, the entries the zip guard listed.
 */
import { ParseError, type ParseInput } from '../parsed.ts'
import { guardZip } from './zip-guard.ts'

export const ZIP_MAGIC = Buffer.from('504b0304', 'hex')
export const CFB_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex')

export type Format = 'xlsx' | 'xlsm' | 'xlsb' | 'xls' | 'ods'
export const FORMAT_NAMES: ReadonlyMap<Format, string> = new Map([
  ['xlsx', 'Excel workbook (xlsx)'],
  ['xlsm', 'Excel macro-enabled workbook (xlsm)'],
  ['xlsb', 'Excel binary workbook (xlsb)'],
  ['xls', 'Excel 97-2003 workbook (xls)'],
  ['ods', 'OpenDocument spreadsheet (ods)'],
])

/** The format of a file read whole; zip containers pass the zip guard on the way. */
export async function identifyFormat(bytes: Buffer, input: ParseInput): Promise<Format> {
  if (bytes.length === 0) throw new ParseError('corrupt_file', 'the file is empty, so it is not a spreadsheet')
  if (bytes.subarray(0, 4).equals(ZIP_MAGIC)) return identifyZipFormat((await guardZip(bytes, input.limits)).entryNames, input.filename)
  if (bytes.subarray(0, 8).equals(CFB_MAGIC)) return 'xls'
  throw notASpreadsheet()
}

export function identifyZipFormat(entryNames: readonly string[], filename: string): Format {
  const names = new Set(entryNames)
  if (names.has('xl/workbook.bin')) return 'xlsb'
  if (names.has('xl/workbook.xml')) return names.has('xl/vbaProject.bin') || /\.xlsm$/i.test(filename) ? 'xlsm' : 'xlsx'
  if (names.has('content.xml')) return 'ods'
  throw new ParseError('corrupt_file', 'the file is a zip archive but not a spreadsheet: it holds no workbook')
}

export function notASpreadsheet(): ParseError {
  return new ParseError('corrupt_file', 'the file is not a spreadsheet: it is neither a zip (xlsx, ods) nor an OLE2 (xls) container')
}
