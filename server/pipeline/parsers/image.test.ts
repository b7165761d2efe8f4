import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_PARSE_LIMITS, type ImageFacts, type ParseLimits } from '../parsed.ts'
import { parseImage } from './image.ts'

let tmpDir: string
beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'image-test-'))
})
afterEach(async () => {
  await rm(tmpDir, { recursive: true, force: true })
})

function parse(bytes: Buffer, limits: Partial<ParseLimits> = {}, chunkSize = 64 * 1024) {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize))
  const source = Readable.from(chunks)
  return parseImage({ kind: 'image', mediaType: 'image/png', source, size: bytes.length, filename: 'picture', limits: { ...DEFAULT_PARSE_LIMITS, ...limits }, tmpDir })
}

const still = () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#c03' } })

/** Five 40x30 frames of noise (so no encoder can merge them), stacked as pages. */
async function animated(): Promise<ReturnType<typeof sharp>> {
  const raw = await sharp({ create: { width: 40, height: 150, channels: 4, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).raw().toBuffer()
  return sharp(raw, { raw: { width: 40, height: 150, channels: 4, pageHeight: 30 } })
}

/** The PNG signature and an IHDR chunk with any size: nothing after it. */
function pngHeader(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(33)
  Buffer.from('89504e470d0a1a0a', 'hex').copy(bytes)
  bytes.writeUInt32BE(13, 8)
  bytes.write('IHDR', 12, 'latin1')
  bytes.writeUInt32BE(width, 16)
  bytes.writeUInt32BE(height, 20)
  bytes.set([8, 2, 0, 0, 0], 24)
  return bytes
}

describe('parseImage', () => {
  it.each([
    ['png', 'PNG image', 1],
    ['jpeg', 'JPEG image', undefined],
    ['webp', 'WebP image', 1],
    ['gif', 'GIF image', 1],
  ] as const)('reads the format and size of a %s', async (format, name, frames) => {
    const out = await parse(await still().toFormat(format).toBuffer())
    expect(out.format).toBe(name)
    const facts: ImageFacts = { kind: 'image', format, width: 40, height: 30 }
    if (frames !== undefined) facts.frames = frames
    expect(out.facts).toEqual(facts)
    expect(out.sections).toEqual([])
    expect(out.notes).toEqual([])
  })

  it('counts the frames of an animated GIF read in small chunks', async () => {
    const out = await parse(await (await animated()).gif().toBuffer(), {}, 7)
    expect(out.facts).toEqual({ kind: 'image', format: 'gif', width: 40, height: 30, frames: 5 })
  })

  it('counts the frames of an animated WebP', async () => {
    const out = await parse(await (await animated()).webp().toBuffer(), {}, 100)
    expect(out.facts).toEqual({ kind: 'image', format: 'webp', width: 40, height: 30, frames: 5 })
  })

  it('reads the frame count of an APNG from its acTL chunk', async () => {
    const png = await still().png().toBuffer()
    const acTL = Buffer.alloc(20)
    acTL.writeUInt32BE(8, 0)
    acTL.write('acTL', 4, 'latin1')
    acTL.writeUInt32BE(12, 8) // num_frames
    const apng = Buffer.concat([png.subarray(0, 33), acTL, png.subarray(33)])
    const out = await parse(apng)
    expect(out.facts).toMatchObject({ format: 'png', frames: 12 })
  })

  it('notes a GIF that ends before its trailer, with the frames seen so far', async () => {
    const gif = await (await animated()).gif().toBuffer()
    const out = await parse(gif.subarray(0, Math.floor(gif.length * 0.7)))
    expect((out.facts as ImageFacts).frames).toBeGreaterThanOrEqual(1)
    expect((out.facts as ImageFacts).frames).toBeLessThan(5)
    expect(out.notes).toEqual(['the GIF file ends early (truncated): frames counted up to the cut'])
  })

  it('refuses a PNG header claiming 100,000 x 100,000 pixels', async () => {
    await expect(parse(pngHeader(100_000, 100_000))).rejects.toMatchObject({
      code: 'image_too_large',
      message: 'the image is 100000 x 100000 = 10000000000 pixels, more than the 268402689 accepted',
    })
  })

  it('refuses an image over a smaller maxImagePixels', async () => {
    await expect(parse(await still().png().toBuffer(), { maxImagePixels: 1199 })).rejects.toMatchObject({ code: 'image_too_large' })
  })

  it('reads only the head of a large image and stops the stream', async () => {
    let pulled = 0
    const header = await still().png().toBuffer()
    const source = Readable.from(
      (function* () {
        yield header
        for (let i = 0; i < 1000; i++) {
          pulled++
          yield Buffer.alloc(64 * 1024)
        }
      })(),
    )
    const input = { kind: 'image' as const, mediaType: 'image/png', source, size: 65_536_000, filename: 'big.png', limits: DEFAULT_PARSE_LIMITS, tmpDir }
    const out = await parseImage(input)
    expect(out.facts).toMatchObject({ width: 40, height: 30 })
    expect(pulled).toBeLessThan(50)
    expect(source.destroyed).toBe(true)
  })

  it('refuses text as not an image', async () => {
    await expect(parse(Buffer.from('just some words, not pixels\n'))).rejects.toMatchObject({
      code: 'corrupt_file',
      message: 'the file is not a readable image: its first bytes match no image format',
    })
  })

  it('refuses an empty file', async () => {
    await expect(parse(Buffer.alloc(0))).rejects.toMatchObject({ code: 'corrupt_file', message: 'the file is not a readable image: it is empty' })
  })

  it('refuses a PNG cut inside its header', async () => {
    await expect(parse((await still().png().toBuffer()).subarray(0, 20))).rejects.toMatchObject({ code: 'corrupt_file' })
  })
})
