/**
 * PDF, through pdfjs-dist (legacy build, no font loading, no eval in 6.5+). Up to
 * limits.wholeFileBytes the file is loaded whole: metadata, page count and
 * the text of pages in order until limits.maxTextBytes. Above it the file is
 * only scanned as it streams past for its page count.
 */
import { createRequire } from 'node:module'
import { dirname, join, sep } from 'node:path'
import type { Readable } from 'node:stream'
import type { PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs'
import { ParseError, type ParseInput, type Parser, type ParserOutput, type PdfFacts, type TextSection } from '../parsed.ts'
import { formatBytesFixed } from '../format-bytes.ts'
import { readUpTo } from './read-bytes.ts'
import { cutToBytes } from './text-stream.ts'

const STANDARD_FONTS = join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts') + sep
/** "The header may be preceded by up to 1024 bytes of arbitrary data" is how readers behave (Acrobat), so look that far. */
const HEADER_WINDOW = 1024
const INFO_CHARS = 500

export const parsePdf: Parser = async (input) => {
  if (input.size > input.limits.wholeFileBytes) return describeLargePdf(input)
  // A fresh copy: pdf.js takes ownership of (and may detach) the buffer it is given.
  const data = new Uint8Array(await readUpTo(input.source, input.limits.wholeFileBytes))
  if (data.length > input.limits.wholeFileBytes) throw new ParseError('corrupt_file', 'the file is larger than its recorded size')
  assertPdfHeader(data)
  // Loaded on first use: pdf.js takes a few hundred milliseconds to import.
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs')
  const task = getDocument({
    data,
    // No isEvalSupported: pdf.js 6.5 removed the option along with its last
    // eval/new Function path (neither appears in the legacy build).
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
    standardFontDataUrl: STANDARD_FONTS,
    stopAtErrors: false,
  })
  try {
    const doc = await task.promise.catch((error: unknown) => {
      throw explainOpenError(error)
    })
    const facts = await readInfo(doc)
    const text = await extractText(doc, input.limits.maxTextBytes)
    facts.textCharacters = text.characters
    const notes = [...text.notes]
    if (text.characters === 0 && doc.numPages > 0) notes.push('the PDF has no text layer (scanned pages?)')
    return { format: 'PDF', facts, sections: text.sections, textTruncated: text.truncated, notes }
  } finally {
    await task.destroy()
  }
}

function assertPdfHeader(data: Uint8Array): void {
  if (data.length === 0) throw new ParseError('corrupt_file', 'the file is empty, not a PDF')
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, HEADER_WINDOW)).toString('latin1')
  if (!head.includes('%PDF-')) throw new ParseError('corrupt_file', 'the file is not a PDF: it has no %PDF- header')
}

function explainOpenError(error: unknown): ParseError {
  const name = (error as Error | undefined)?.name
  if (name === 'PasswordException') return new ParseError('encrypted_pdf', 'the PDF is encrypted with a password, so it cannot be read', { cause: error })
  const detail = (error as Error | undefined)?.message?.slice(0, 200) ?? String(error)
  return new ParseError('corrupt_file', `the PDF is damaged and cannot be opened (${detail})`, { cause: error })
}

async function readInfo(doc: PDFDocumentProxy): Promise<PdfFacts> {
  const { PDFDateString } = await import('pdfjs-dist/legacy/build/pdf.mjs')
  const { info } = await doc.getMetadata().catch(() => ({ info: {} }))
  const field = (key: string): string | undefined => {
    const value: unknown = (info as Record<string, unknown>)[key]
    return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, INFO_CHARS) : undefined
  }
  const date = (key: string): string | undefined => {
    const raw = field(key)
    const parsed = raw === undefined ? null : PDFDateString.toDateObject(raw)
    return parsed && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : undefined
  }
  const facts: PdfFacts = { kind: 'pdf', pages: doc.numPages, textCharacters: 0 }
  const fields = { title: field('Title'), author: field('Author'), subject: field('Subject'), creator: field('Creator'), producer: field('Producer'), createdAt: date('CreationDate'), modifiedAt: date('ModDate') }
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) Object.assign(facts, { [key]: value })
  return facts
}

/** Page texts in order, stopping once `maxTextBytes` is reached so a 5,000-page PDF costs only the pages kept. */
async function extractText(doc: PDFDocumentProxy, maxTextBytes: number) {
  const sections: TextSection[] = []
  const notes: string[] = []
  let bytes = 0
  let characters = 0
  let unreadable = 0
  let cut = false
  let pageNo = 1
  for (; pageNo <= doc.numPages && bytes < maxTextBytes && !cut; pageNo++) {
    let text: string
    try {
      text = await readPageText(doc, pageNo)
    } catch {
      unreadable++
      continue
    }
    if (text === '') continue
    const kept = cutToBytes(text, maxTextBytes - bytes)
    bytes += Buffer.byteLength(kept)
    for (const _ of kept) characters++
    sections.push({ title: `page ${pageNo}`, text: kept })
    cut = kept.length < text.length
  }
  if (unreadable > 0) notes.push(`${unreadable} page${unreadable === 1 ? '' : 's'} could not be read`)
  return { sections, notes, characters, truncated: cut || (bytes >= maxTextBytes && pageNo <= doc.numPages) }
}

async function readPageText(doc: PDFDocumentProxy, pageNo: number): Promise<string> {
  const page = await doc.getPage(pageNo)
  try {
    const content = await page.getTextContent()
    let text = ''
    for (const item of content.items) if ('str' in item) text += item.hasEOL ? `${item.str}\n` : item.str
    return text.trim()
  } finally {
    page.cleanup()
  }
}

/**
 * Over the cap the file is not loaded: the page count comes from a scan of
 * the raw bytes, the largest `/Count N` near a `/Type /Pages` (the root of
 * the page tree counts every page), else the number of `/Type /Page` objects.
 * Page trees inside compressed object streams are invisible to this scan, so
 * `pages` is then null.
 */
async function describeLargePdf({ source, size, limits }: ParseInput): Promise<ParserOutput> {
  const pages = await scanPageCount(source)
  const facts: PdfFacts = { kind: 'pdf', pages, textCharacters: 0 }
  const over = `the file is ${formatBytesFixed(size)}, over the ${formatBytesFixed(limits.wholeFileBytes)} read in full for PDF`
  const reason = pages === null ? `${over}: its page count could not be found without loading it` : `${over}: only its page count was read`
  return { format: 'PDF', facts, sections: [], textTruncated: false, partial: { reason }, notes: [] }
}

/** Bytes kept from the previous chunk so a token split across chunks is still seen. */
const OVERLAP = 64
/** How far apart (in bytes) a `/Count` and a `/Type /Pages` may be and still belong to one dictionary. */
const PAIR_DISTANCE = 512

export async function scanPageCount(source: Readable): Promise<number | null> {
  const token = /\/Type\s{0,8}\/Pages?(?![A-Za-z0-9])|\/Count\s{1,8}(\d{1,9})(?!\d)/g
  const recentPages: number[] = []
  const recentCounts: { at: number; n: number }[] = []
  let best = -1
  let pageObjects = 0
  let tail = ''
  let offset = 0 // file offset of the first character of `tail`
  let first = true
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const text = tail + chunk.toString('latin1')
      if (first && !text.slice(0, HEADER_WINDOW).includes('%PDF-') && text.length >= 5) throw new ParseError('corrupt_file', 'the file is not a PDF: it has no %PDF- header')
      first = false
      for (const match of text.matchAll(token)) {
        // A match ending inside the tail was seen with the previous chunk; one
        // ending at the very end may be cut short ("/Count 12|3") and is taken next time.
        const end = match.index + match[0].length
        if (end < tail.length || end === text.length) continue
        const at = offset + match.index
        if (match[1] === undefined) {
          if (!match[0].endsWith('s')) pageObjects++
          else {
            recentPages.push(at)
            for (const count of recentCounts) if (at - count.at < PAIR_DISTANCE) best = Math.max(best, count.n)
          }
        } else {
          const n = Number(match[1])
          recentCounts.push({ at, n })
          if (recentPages.some((page) => at - page < PAIR_DISTANCE)) best = Math.max(best, n)
        }
      }
      trimRecent(recentPages, recentCounts, offset + text.length - PAIR_DISTANCE)
      tail = text.slice(-OVERLAP)
      offset += text.length - tail.length
    }
  } finally {
    source.destroy()
  }
  return best >= 0 ? best : pageObjects > 0 ? pageObjects : null
}

function trimRecent(pages: number[], counts: { at: number }[], before: number): void {
  while (pages.length > 0 && pages[0]! < before) pages.shift()
  while (counts.length > 0 && counts[0]!.at < before) counts.shift()
}
