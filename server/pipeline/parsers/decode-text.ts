/**
 * Text encodings of uploaded text files. UTF-8 is assumed unless a BOM says
 * UTF-16, or the first bytes are not valid UTF-8, in which case the file is
 * read as windows-1252 (the superset of Latin-1 that spreadsheet exports
 * from Windows actually use). Decoding is streaming: a multi-byte character
 * split across two chunks is joined, never corrupted.
 */
import { Transform, type TransformCallback } from 'node:stream'

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252'

export type DetectedEncoding = { encoding: TextEncoding; bom: boolean }

/** Decides the encoding from the first bytes of a file (64 KiB is plenty). */
export function detectEncoding(head: Uint8Array): DetectedEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bom: true }
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bom: true }
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bom: true }
  return { encoding: isUtf8Prefix(head) ? 'utf-8' : 'windows-1252', bom: false }
}

/**
 * True when `bytes` is valid UTF-8, allowing the last character to be cut
 * off (the sample ends wherever the read ended).
 */
export function isUtf8Prefix(bytes: Uint8Array): boolean {
  // Drop an incomplete trailing sequence of at most 3 bytes before checking.
  let end = bytes.length
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = bytes[end - back] as number
    if ((b & 0xc0) === 0x80) continue // continuation byte: keep looking for the lead
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2
      if (need > back) end -= back
    }
    break
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end))
    return true
  } catch {
    return false
  }
}

/** A Transform from bytes to strings in `encoding`, dropping a BOM. */
export function createDecoder(encoding: TextEncoding): Transform {
  const decoder = new TextDecoder(encoding, { ignoreBOM: false })
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      const text = decoder.decode(chunk, { stream: true })
      callback(null, text.length > 0 ? text : undefined)
    },
    flush(callback: TransformCallback) {
      const text = decoder.decode()
      callback(null, text.length > 0 ? text : undefined)
    },
  })
}
