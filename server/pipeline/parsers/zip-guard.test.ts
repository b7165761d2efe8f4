import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, deflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as XLSX from 'xlsx'
import { DEFAULT_PARSE_LIMITS, ParseError } from '../parsed.ts'
import { guardZip, readZipWorkbook } from './zip-guard.ts'

type ZipEntry = { name: string; data: Buffer; stored?: boolean; declaredSize?: number }

/** A zip built by hand (yauzl cannot write them): local headers and data, central directory, end record. */
function buildZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const entry of entries) {
    const name = Buffer.from(entry.name)
    const body = entry.stored ? entry.data : deflateRawSync(entry.data)
    const fields = { method: entry.stored ? 0 : 8, crc: crc32(entry.data), compressed: body.length, size: entry.declaredSize ?? entry.data.length }
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    writeSizes(local, 8, fields)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    writeSizes(central, 10, fields)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, body)
    centrals.push(central, name)
    offset += local.length + name.length + body.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

function writeSizes(header: Buffer, at: number, fields: { method: number; crc: number; compressed: number; size: number }): void {
  header.writeUInt16LE(fields.method, at) // then time and date, left 0
  header.writeUInt32LE(fields.crc, at + 6)
  header.writeUInt32LE(fields.compressed, at + 10)
  header.writeUInt32LE(fields.size, at + 14)
}

const MiB = 1024 * 1024

/** Bytes that deflate about 2:1, like real sheet XML, unlike zeros. */
function randomDigits(length: number): Buffer {
  const bytes = Buffer.alloc(length)
  for (let i = 0, seed = 1; i < length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff
    bytes[i] = 48 + (seed >>> 16) % 10
  }
  return bytes
}
const limits = { ...DEFAULT_PARSE_LIMITS, maxInflatedBytes: 8 * MiB }

async function refusal(promise: Promise<unknown>): Promise<ParseError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(ParseError)
  return error as ParseError
}

let tmpDir: string
beforeAll(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'zip-guard-test-'))
})
afterAll(async () => {
  await rm(tmpDir, { recursive: true, force: true })
})

describe('guardZip', () => {
  it('lists the entries of an honest zip and counts the bytes they inflate to', async () => {
    const zip = buildZip([
      { name: 'a.xml', data: Buffer.from('<a>'.repeat(1000)) },
      { name: 'dir/', data: Buffer.alloc(0), stored: true },
      { name: 'dir/b.bin', data: Buffer.from('stored bytes'), stored: true },
    ])
    expect(await guardZip(zip, limits)).toEqual({ entryNames: ['a.xml', 'dir/', 'dir/b.bin'], inflatedBytes: 3012 })
  })

  it('refuses a zip whose declared sizes add up past maxInflatedBytes before inflating anything', async () => {
    const zip = buildZip([{ name: 'digits', data: randomDigits(5 * MiB) }, { name: 'more', data: randomDigits(5 * MiB) }])
    const error = await refusal(guardZip(zip, limits))
    expect(error.code).toBe('zip_bomb')
    expect(error.message).toMatch(/declare 10 MiB .*over the 8 MiB limit/)
  })

  it('refuses a big entry declaring an absurd compression ratio', async () => {
    const zip = buildZip([{ name: 'sheet.xml', data: Buffer.alloc(64 * 1024), declaredSize: 6 * MiB }])
    const error = await refusal(guardZip(zip, limits))
    expect(error.code).toBe('zip_bomb')
    expect(error.message).toMatch(/compression ratio/)
  })

  it('refuses an entry that inflates past the size it declares, stopping there', async () => {
    // 64 MiB of zeros deflate to about 64 KiB; the entry claims 1000 bytes.
    const zip = buildZip([{ name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(64 * MiB), declaredSize: 1000 }])
    const started = performance.now()
    const error = await refusal(guardZip(zip, limits))
    expect(error.code).toBe('zip_bomb')
    expect(error.message).toMatch(/inflates past the 1000 bytes it declares/)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('refuses a zip with more entries than a workbook could need', async () => {
    const entries = Array.from({ length: 20_001 }, (_, i) => ({ name: `${i}`, data: Buffer.alloc(0), stored: true }))
    expect((await refusal(guardZip(buildZip(entries), limits))).code).toBe('zip_bomb')
  })

  it('refuses bytes that are not a zip, and a zip cut short, as corrupt', async () => {
    expect((await refusal(guardZip(Buffer.from('id,name\n1,a\n'), limits))).code).toBe('corrupt_file')
    const zip = buildZip([{ name: 'a.xml', data: Buffer.from('<a/>'.repeat(100)) }])
    expect((await refusal(guardZip(zip.subarray(0, zip.length - 30), limits))).code).toBe('corrupt_file')
  })

  it('refuses an entry whose deflate data is damaged as corrupt', async () => {
    const zip = buildZip([{ name: 'a.xml', data: Buffer.from('<row/>'.repeat(5000)) }])
    zip.fill(0xff, 40, 60) // inside the deflate stream
    expect((await refusal(guardZip(zip, limits))).code).toBe('corrupt_file')
  })
})

describe('readZipWorkbook', () => {
  function workbook(names: string[], rows = 3): XLSX.WorkBook {
    const book = XLSX.utils.book_new()
    for (const name of names) {
      const data = Array.from({ length: rows }, (_, i) => [i, `${name} row ${i}`, i * 1.5])
      XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['n', 'label', 'value'], ...data]), name)
    }
    return book
  }

  it('reads sheet names from xl/workbook.xml, decoding entities', async () => {
    const path = join(tmpDir, 'book.xlsx')
    await writeFile(path, XLSX.write(workbook(['Sales', 'R&D <2024>', 'Ünïcode']), { type: 'buffer', bookType: 'xlsx' }))
    const result = await readZipWorkbook(path, limits)
    expect(result.sheetNames).toEqual(['Sales', 'R&D <2024>', 'Ünïcode'])
    expect(result.entryNames).toContain('xl/workbook.xml')
  })

  it('streams sheet names out of a content.xml larger than one inflate chunk (ods)', async () => {
    const path = join(tmpDir, 'book.ods')
    await writeFile(path, XLSX.write(workbook(['first', 'second & co', 'third'], 3000), { type: 'buffer', bookType: 'ods' }))
    expect((await readZipWorkbook(path, limits)).sheetNames).toEqual(['first', 'second & co', 'third'])
  })

  it('refuses a workbook.xml that lies about its size, and a file that is not a zip', async () => {
    const path = join(tmpDir, 'huge.xlsx')
    await writeFile(path, buildZip([{ name: 'xl/workbook.xml', data: Buffer.alloc(64 * MiB), declaredSize: 1000 }]))
    expect((await refusal(readZipWorkbook(path, limits))).code).toBe('zip_bomb')
    await writeFile(path, 'not a zip')
    expect((await refusal(readZipWorkbook(path, limits))).code).toBe('corrupt_file')
  })
})
