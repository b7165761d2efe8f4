/**
 * The text-stream pieces the streaming parsers share (text.ts, ndjson.ts):
 * decode a stream once in constant memory, split it into lines, and keep a
 * bounded amount of those lines as titled sections. cutToBytes also serves
 * json.ts and pdf.ts.
 */
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ParseError, type TextSection } from '../parsed.ts'
import { createDecoder, detectEncoding, type DetectedEncoding, type TextEncoding } from './decode-text.ts'

const HEAD_BYTES = 64 * 1024
/** Sections are cut at the first line boundary past this many bytes. */
const SECTION_BYTES = 64 * 1024

/**
 * Reads `source` as text: decides the encoding (and refuses binary) from the
 * first 64 KiB, then hands decoded strings to `onText`. A line longer than
 * `maxLineBytes` is refused as soon as its bytes arrive, before decoding, so
 * a 1 GB single-line file fails after maxLineBytes, not after 1 GB.
 */
export async function decodeTextStream(
  source: Readable,
  maxLineBytes: number,
  onText: (text: string) => void,
): Promise<DetectedEncoding> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
  try {
    const head: Buffer[] = []
    let headBytes = 0
    while (headBytes < HEAD_BYTES) {
      const next = await chunks.next()
      if (next.done) break
      head.push(toBuffer(next.value))
      headBytes += head[head.length - 1]!.length
    }
    const headBytesAll = Buffer.concat(head)
    const detected = detectEncoding(headBytesAll)
    assertLooksLikeText(headBytesAll, detected.encoding)
    const checkLines = createLineLengthCheck(detected.encoding, maxLineBytes)
    async function* readBytes() {
      for (const chunk of head) yield checkLines(chunk)
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield checkLines(toBuffer(next.value))
    }
    await pipeline(readBytes, createDecoder(detected.encoding), async (texts: AsyncIterable<string>) => {
      for await (const text of texts) onText(text)
    })
    return detected
  } finally {
    // Stops the upstream read when we fail early; harmless once it has ended.
    source.destroy()
  }
}

function toBuffer(chunk: Buffer | string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk)
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/** NUL bytes (outside UTF-16) or many control characters in the head mean the bytes are not text. */
function assertLooksLikeText(head: Buffer, encoding: TextEncoding): void {
  if (head.length === 0) return
  const text = new TextDecoder(encoding).decode(head)
  let controls = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0) throw new ParseError('corrupt_file', 'the file is not text: it contains NUL bytes')
    // Tab, LF, VT, FF, CR and ESC (ANSI colours in logs) are normal in text.
    if (c < 32 && (c < 9 || c > 13) && c !== 27) controls++
  }
  if (controls > text.length / 10) {
    throw new ParseError('corrupt_file', `the file is not text: ${controls} of its first ${text.length} characters are control characters`)
  }
}

/**
 * Measures lines in raw bytes. For UTF-16 a 0x0A byte at the code unit's low
 * position counts as a newline without checking its partner byte: a few
 * characters (U+xx0A) then end a "line" early, which only makes the check
 * more lenient, never wrongly strict.
 */
function createLineLengthCheck(encoding: TextEncoding, maxLineBytes: number): (chunk: Buffer) => Buffer {
  const parity = encoding === 'utf-16le' ? 0 : encoding === 'utf-16be' ? 1 : -1
  let run = 0
  let offset = 0
  return (chunk) => {
    for (let from = 0; ; ) {
      let at = chunk.indexOf(0x0a, from)
      while (parity >= 0 && at >= 0 && (offset + at) % 2 !== parity) at = chunk.indexOf(0x0a, at + 1)
      run += (at < 0 ? chunk.length : at) - from
      if (run > maxLineBytes) {
        throw new ParseError('line_too_long', `a line is longer than ${maxLineBytes} bytes, the longest accepted`)
      }
      if (at < 0) break
      run = 0
      from = at + 1
    }
    offset += chunk.length
    return chunk
  }
}

/** Splits decoded text into lines (without `\n` or a `\r` before it), across chunk boundaries. */
export function createLineSplitter(onLine: (line: string) => void) {
  let carry = ''
  const emit = (line: string) => onLine(line.endsWith('\r') ? line.slice(0, -1) : line)
  return {
    push(text: string) {
      let from = 0
      for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', from)) {
        emit(carry + text.slice(from, at))
        carry = ''
        from = at + 1
      }
      carry += text.slice(from)
    },
    end() {
      if (carry !== '') emit(carry)
      carry = ''
    },
  }
}

/**
 * Gathers lines into sections of about 64 KiB titled `<label> A-B`, keeping
 * at most `maxTextBytes` UTF-8 bytes in total (newlines included).
 */
export function createSectionCollector(label: string, maxTextBytes: number) {
  const sections: TextSection[] = []
  let parts: string[] = []
  let partBytes = 0
  let first = 0
  let last = 0
  let total = 0
  let truncated = false
  let full = false
  const flush = () => {
    if (parts.length > 0) sections.push({ title: `${label} ${first}-${last}`, text: parts.join('\n') })
    parts = []
    partBytes = 0
  }
  return {
    get full() {
      return full
    },
    add(line: string, no: number) {
      if (full) return
      let bytes = Buffer.byteLength(line) + 1
      if (total >= maxTextBytes) {
        truncated = full = true
        return flush()
      }
      if (total + bytes > maxTextBytes) {
        line = cutToBytes(line, maxTextBytes - total)
        bytes = maxTextBytes - total
        truncated = full = true
      }
      if (parts.length === 0) first = no
      parts.push(line)
      last = no
      partBytes += bytes
      total += bytes
      if (partBytes >= SECTION_BYTES || full) flush()
    },
    finish() {
      flush()
      return { sections, truncated }
    },
  }
}

/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes, never splitting a character. */
export function cutToBytes(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text
  const bytes = Buffer.from(text.slice(0, Math.max(0, maxBytes)))
  if (bytes.length <= maxBytes) return bytes.toString()
  let end = maxBytes
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString()
}
