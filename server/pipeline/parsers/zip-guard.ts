/**
 * Zip containers (xlsx, xlsm, xlsb, ods) before anything parses them. A
 * zip's central directory declares each entry's sizes; a bomb declares
 * absurd ones or lies. guardZip checks the declarations (milliseconds), then
 * inflates every entry counting the real bytes (about 1.4 s per 300 MiB),
 * stopping at the first byte past a declared size or past the limit.
 *
 * readZipWorkbook reads only the directory and the sheet list of a zip on
 * disk, for workbooks too large to parse: the entries it inflates are capped.
 */
import yauzl, { type Entry, type ZipFile } from 'yauzl'
import { ParseError, type ParseLimits } from '../parsed.ts'

/** More entries than any real workbook has (one per sheet, image, chart ...). */
const MAX_ENTRIES = 20_000
/** Deflate cannot do better than about 1032:1; XML that does is built to. */
const MAX_RATIO = 1000
/** Ratios only count for entries at least this big: a tiny entry of zeros is harmless. */
const RATIO_MIN_BYTES = 1024 * 1024
/** xl/workbook.xml lists sheets and defined names: a few KiB, tens of MiB at the very most. */
const MAX_WORKBOOK_XML_BYTES = 32 * 1024 * 1024
const MAX_SHEET_NAMES = 10_000

const ZIP_OPTIONS = { lazyEntries: true, autoClose: false, validateEntrySizes: false, strictFileNames: false }

export type ZipContents = { entryNames: string[]; inflatedBytes: number }

/** Refuses a zip bomb ('zip_bomb') or an unreadable zip ('corrupt_file'); otherwise lists its entries. */
export async function guardZip(bytes: Buffer, limits: ParseLimits): Promise<ZipContents> {
  const zip = await openZip(() => yauzl.fromBufferPromise(bytes, ZIP_OPTIONS))
  try {
    const entries = await readDirectory(zip, limits)
    let inflatedBytes = 0
    for (const entry of entries) {
      if (entry.fileName.endsWith('/')) continue
      inflatedBytes += await inflateEntry(zip, entry, limits.maxInflatedBytes - inflatedBytes, limits)
    }
    return { entryNames: entries.map((entry) => entry.fileName), inflatedBytes }
  } catch (error) {
    throw asParseError(error)
  } finally {
    zip.close()
  }
}

export type ZipWorkbook = { entryNames: string[]; sheetNames: string[] }

/**
 * The entry names and sheet names of a workbook zip on disk, from
 * xl/workbook.xml (xlsx, xlsm) or content.xml (ods); xlsb keeps its sheet
 * list in a binary part, so its sheetNames are empty.
 */
export async function readZipWorkbook(path: string, limits: ParseLimits): Promise<ZipWorkbook> {
  const zip = await openZip(() => yauzl.openPromise(path, ZIP_OPTIONS))
  try {
    const entries = await readDirectory(zip, limits)
    const entryNames = entries.map((entry) => entry.fileName)
    const workbook = entries.find((entry) => entry.fileName === 'xl/workbook.xml')
    if (workbook) return { entryNames, sheetNames: listSheetNames(await inflateText(zip, workbook, MAX_WORKBOOK_XML_BYTES, limits), SHEET_TAG) }
    const content = entries.find((entry) => entry.fileName === 'content.xml')
    if (content) return { entryNames, sheetNames: await scanOdsSheetNames(zip, content, limits) }
    return { entryNames, sheetNames: [] }
  } catch (error) {
    throw asParseError(error)
  } finally {
    zip.close()
  }
}

async function openZip(open: () => Promise<ZipFile>): Promise<ZipFile> {
  try {
    return await open()
  } catch (error) {
    throw new ParseError('corrupt_file', 'the file is not a readable zip archive (it is truncated or not a zip)', { cause: error })
  }
}

/** The central directory, checked against the limits before a byte is inflated. */
async function readDirectory(zip: ZipFile, limits: ParseLimits): Promise<Entry[]> {
  if (zip.entryCount > MAX_ENTRIES) throw bomb(`it holds ${zip.entryCount} entries, more than the ${MAX_ENTRIES} a workbook could need`)
  const entries: Entry[] = []
  let declared = 0
  for await (const entry of zip.eachEntry()) {
    entries.push(entry)
    declared += entry.uncompressedSize
    if (declared > limits.maxInflatedBytes) {
      throw bomb(`its entries declare ${mib(declared)} or more once inflated, over the ${mib(limits.maxInflatedBytes)} limit`)
    }
    const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1)
    if (entry.uncompressedSize >= RATIO_MIN_BYTES && ratio > MAX_RATIO) {
      throw bomb(`entry ${JSON.stringify(entry.fileName)} declares a ${Math.round(ratio)}:1 compression ratio`)
    }
  }
  return entries
}

/** Inflates one entry, counting real bytes: returns them, or throws at the first byte past `budget` or the declared size. */
async function inflateEntry(zip: ZipFile, entry: Entry, budget: number, limits: ParseLimits, onChunk?: (chunk: Buffer) => boolean): Promise<number> {
  const stream = await zip.openReadStreamPromise(entry)
  let bytes = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length
    if (bytes > entry.uncompressedSize) throw bomb(`entry ${JSON.stringify(entry.fileName)} inflates past the ${entry.uncompressedSize} bytes it declares`)
    if (bytes > budget) throw bomb(`it inflates past the ${mib(limits.maxInflatedBytes)} limit`)
    if (onChunk && !onChunk(chunk)) return bytes // the caller has what it needs: stop inflating
  }
  if (bytes < entry.uncompressedSize) {
    throw new ParseError('corrupt_file', `the zip archive is damaged: entry ${JSON.stringify(entry.fileName)} is shorter than it declares`)
  }
  return bytes
}

async function inflateText(zip: ZipFile, entry: Entry, maxBytes: number, limits: ParseLimits): Promise<string> {
  if (entry.uncompressedSize > maxBytes) throw new ParseError('corrupt_file', `${entry.fileName} is implausibly large (${mib(entry.uncompressedSize)})`)
  const chunks: Buffer[] = []
  await inflateEntry(zip, entry, maxBytes, limits, (chunk) => chunks.push(chunk) > 0)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * ODS keeps its sheets in content.xml with all their cells, so it is read
 * as a stream: each chunk is scanned for table start tags and only the
 * text after the last '<' is carried over to the next one.
 */
async function scanOdsSheetNames(zip: ZipFile, entry: Entry, limits: ParseLimits): Promise<string[]> {
  const decoder = new TextDecoder('utf-8')
  const names: string[] = []
  let carry = ''
  await inflateEntry(zip, entry, limits.maxInflatedBytes, limits, (chunk) => {
    const text = carry + decoder.decode(chunk, { stream: true })
    const cut = text.lastIndexOf('<')
    names.push(...listSheetNames(cut < 0 ? text : text.slice(0, cut), ODS_TABLE_TAG))
    carry = cut < 0 ? '' : text.slice(cut)
    // A start tag longer than this is not one we could use.
    if (carry.length > 64 * 1024) carry = ''
    return names.length < MAX_SHEET_NAMES
  })
  names.push(...listSheetNames(carry, ODS_TABLE_TAG))
  return names.slice(0, MAX_SHEET_NAMES)
}

// Bounded by '>' on both sides, so they cannot backtrack across the document.
const SHEET_TAG = /<(?:[\w.-]+:)?sheet\s[^>]*?\bname\s*=\s*(?:"([^"]*)"|'([^']*)')/g
const ODS_TABLE_TAG = /<table:table\s[^>]*?\btable:name\s*=\s*(?:"([^"]*)"|'([^']*)')/g

function listSheetNames(xml: string, tag: RegExp): string[] {
  const names: string[] = []
  for (const match of xml.matchAll(tag)) {
    names.push(decodeXmlEntities(match[1] ?? match[2] ?? ''))
    if (names.length >= MAX_SHEET_NAMES) break
  }
  return names
}

const NAMED_ENTITIES = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]])

function decodeXmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (whole, name: string) => {
    if (name[0] !== '#') return NAMED_ENTITIES.get(name) ?? whole
    const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10)
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole
  })
}

function bomb(reason: string): ParseError {
  return new ParseError('zip_bomb', `the zip archive was refused as a zip bomb: ${reason}`)
}

function asParseError(error: unknown): ParseError {
  if (error instanceof ParseError) return error
  return new ParseError('corrupt_file', 'the zip archive is damaged or uses a feature that cannot be read (encryption, an unknown compression)', { cause: error })
}

function mib(bytes: number): string {
  return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`
}
