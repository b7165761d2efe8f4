/**
 * Images: format and dimensions from the header with image-size, never a
 * pixel decoded. Only the first 128 KiB is read, except to count the frames
 * of a GIF or an animated WebP: those are walked block by block to the end of
 * the file by a small state machine that skips frame data without keeping
 * it (memory stays at one chunk; the cost is reading the file once).
 */
import type { Readable } from 'node:stream'
import { imageSize } from 'image-size'
import { ParseError, type ImageFacts, type Parser } from '../parsed.ts'

const HEAD_BYTES = 128 * 1024
/** Bytes a header needs before its size fields can be trusted (PNG: signature + the whole IHDR chunk with its CRC). */
const MIN_HEADER_BYTES: Record<string, number> = { png: 33, gif: 10, webp: 30, bmp: 26 }
const FORMAT_NAMES: Record<string, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP', gif: 'GIF', bmp: 'BMP', tiff: 'TIFF', svg: 'SVG', ico: 'ICO', heif: 'HEIF', avif: 'AVIF' }

export const parseImage: Parser = async ({ source, limits }) => {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  try {
    const head = await readHead(chunks)
    let size: ReturnType<typeof imageSize>
    try {
      size = imageSize(head)
    } catch (error) {
      const reason = head.length === 0 ? 'it is empty' : /unsupported file type/.test((error as Error).message) ? 'its first bytes match no image format' : (error as Error).message
      throw new ParseError('corrupt_file', `the file is not a readable image: ${reason}`, { cause: error })
    }
    const format = size.type === 'jpg' ? 'jpeg' : (size.type ?? 'unknown')
    const { width, height } = size
    const needed = Object.hasOwn(MIN_HEADER_BYTES, format) ? (MIN_HEADER_BYTES[format] as number) : 0
    if (head.length < needed) throw new ParseError('corrupt_file', `the ${format.toUpperCase()} header is cut off: the file ends after ${head.length} bytes`)
    if (!(width > 0 && height > 0)) throw new ParseError('corrupt_file', `the ${format.toUpperCase()} header gives no usable size (${width} x ${height})`)
    if (width * height > limits.maxImagePixels) {
      throw new ParseError('image_too_large', `the image is ${width} x ${height} = ${width * height} pixels, more than the ${limits.maxImagePixels} accepted`)
    }
    const notes: string[] = []
    const frames = await countFrames(format, head, chunks, notes)
    const facts: ImageFacts = { kind: 'image', format, width, height }
    if (frames !== undefined) facts.frames = frames
    return { format: `${FORMAT_NAMES[format] ?? format.toUpperCase()} image`, facts, sections: [], textTruncated: false, notes }
  } finally {
    source.destroy()
  }
}

async function readHead(chunks: AsyncIterator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = []
  let total = 0
  while (total < HEAD_BYTES) {
    const next = await chunks.next()
    if (next.done) break
    parts.push(next.value)
    total += next.value.length
  }
  return Buffer.concat(parts)
}

async function countFrames(format: string, head: Buffer, rest: AsyncIterator<Buffer>, notes: string[]): Promise<number | undefined> {
  if (format === 'png') return countPngFrames(head)
  if (format !== 'gif' && format !== 'webp') return undefined
  const reader = createByteReader(head, rest)
  const result = format === 'gif' ? await countGifFrames(reader) : await countWebpFrames(reader)
  if (result.truncated) notes.push(`the ${format.toUpperCase()} file ends early (truncated): frames counted up to the cut`)
  return result.frames
}

/** APNG: the `acTL` chunk, before the first IDAT, holds num_frames; a plain PNG has one frame. */
function countPngFrames(head: Buffer): number {
  for (let at = 8; at + 8 <= head.length; ) {
    const length = head.readUInt32BE(at)
    const type = head.toString('latin1', at + 4, at + 8)
    if (type === 'acTL' && at + 12 <= head.length) return head.readUInt32BE(at + 8)
    if (type === 'IDAT' || type === 'IEND') break
    at += 12 + length
  }
  return 1
}

type ByteReader = ReturnType<typeof createByteReader>

/** Reads bytes and skips runs across chunks; at the end of the file `byte()` returns -1. */
function createByteReader(first: Buffer, rest: AsyncIterator<Buffer>) {
  let buffer = first
  let pos = 0
  const fill = async (): Promise<boolean> => {
    while (pos >= buffer.length) {
      const next = await rest.next()
      if (next.done) return false
      pos -= buffer.length
      buffer = next.value
    }
    return true
  }
  return {
    async byte(): Promise<number> {
      if (pos >= buffer.length && !(await fill())) return -1
      return buffer[pos++] as number
    },
    async bytes(n: number): Promise<Buffer | undefined> {
      const out = Buffer.alloc(n)
      for (let i = 0; i < n; i++) {
        const b = await this.byte()
        if (b < 0) return undefined
        out[i] = b
      }
      return out
    },
    /** Skips `n` bytes; false when the file ends first. */
    async skip(n: number): Promise<boolean> {
      pos += n
      while (pos > buffer.length) {
        const next = await rest.next()
        if (next.done) return false
        pos -= buffer.length
        buffer = next.value
      }
      return true
    },
  }
}

/**
 * GIF89a/87a: header, logical screen descriptor and global colour table,
 * then blocks: 0x2C image descriptor (one frame), 0x21 extension, 0x3B end.
 * Extensions and image data are chains of sub-blocks, each a length byte
 * then that many bytes, ended by a zero length.
 */
async function countGifFrames(reader: ByteReader): Promise<{ frames: number; truncated: boolean }> {
  let frames = 0
  const screen = await reader.bytes(13)
  if (!screen) return { frames, truncated: true }
  if (!(await reader.skip(colourTableBytes(screen[10]!)))) return { frames, truncated: true }
  for (;;) {
    const block = await reader.byte()
    if (block === 0x3b) return { frames, truncated: false }
    if (block === 0x2c) {
      const descriptor = await reader.bytes(9)
      // Colour table, then the LZW minimum code size byte, then the image data sub-blocks.
      if (!descriptor || !(await reader.skip(colourTableBytes(descriptor[8]!) + 1))) return { frames, truncated: true }
      frames++
    } else if (block === 0x21) {
      if ((await reader.byte()) < 0) return { frames, truncated: true }
    } else return { frames, truncated: block < 0 }
    if (!(await skipSubBlocks(reader))) return { frames, truncated: true }
  }
}

function colourTableBytes(flags: number): number {
  return flags & 0x80 ? 3 * (2 << (flags & 0x07)) : 0
}

async function skipSubBlocks(reader: ByteReader): Promise<boolean> {
  for (;;) {
    const length = await reader.byte()
    if (length < 0) return false
    if (length === 0) return true
    if (!(await reader.skip(length))) return false
  }
}

/**
 * WebP is RIFF: 'RIFF' size 'WEBP', then chunks of a fourcc, a little-endian
 * size and a payload padded to even length. An animation is one ANMF chunk
 * per frame; any other WebP has one frame.
 */
async function countWebpFrames(reader: ByteReader): Promise<{ frames: number; truncated: boolean }> {
  if (!(await reader.skip(12))) return { frames: 1, truncated: true }
  let frames = 0
  let animated = false
  for (;;) {
    const header = await reader.bytes(8)
    if (!header) return { frames: animated ? frames : 1, truncated: false }
    const fourcc = header.toString('latin1', 0, 4)
    const size = header.readUInt32LE(4)
    if (fourcc === 'VP8X') {
      const flags = await reader.byte()
      animated = (flags & 0x02) !== 0
      if (!animated) return { frames: 1, truncated: false }
      if (!(await reader.skip(size - 1 + (size & 1)))) return { frames, truncated: true }
      continue
    }
    // Without a VP8X chunk first the image is a simple (single-frame) WebP.
    if (!animated) return { frames: 1, truncated: false }
    if (fourcc === 'ANMF') frames++
    if (!(await reader.skip(size + (size & 1)))) return { frames, truncated: true }
  }
}
