/** Reading the start of a stream whole, for the parsers that load small files in full (json.ts, pdf.ts). */
import type { Readable } from 'node:stream'

/** Reads `source` until it ends or passes `maxBytes` (then one chunk over, to tell), and stops it. */
export async function readUpTo(source: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      chunks.push(chunk)
      total += chunk.length
      if (total > maxBytes) break
    }
  } finally {
    source.destroy()
  }
  return Buffer.concat(chunks)
}
