/**
 * Hostile files against the running server: each ends `failed` with a
 * reason within its time limit (or, where the library resists the attack,
 * `ready` with plain facts), the server stays up and keeps processing other
 * uploads, nothing leaks out of the parser process, no temp files remain.
 */
import http from 'node:http'
import { deflateRawSync, crc32 } from 'node:zlib'
import * as XLSX from 'xlsx'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from './helpers/backends.ts'
import { uploadFile } from './helpers/files.ts'
import { type FileBody, parserTempFiles, settled } from './helpers/pipeline.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { createUpload, idOf, TUS } from './helpers/tus.ts'

const MiB = 1024 * 1024
const PARSE_TIMEOUT_SECONDS = 60

/** A minimal zip (stored or deflated entries) with the sizes its headers declare; `declared` may lie. */
function zip(entries: { name: string; data: Buffer; rawSize: number; declared?: number; method?: 0 | 8 }[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name)
    const method = e.method ?? 8
    const size = e.declared ?? e.rawSize
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(0, 14) // crc: a bomb's crc need not be right, the guard stops before checking it
    local.writeUInt32LE(e.data.length, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(e.data.length, 20)
    central.writeUInt32LE(size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, e.data)
    centrals.push(central, name)
    offset += 30 + name.length + e.data.length
  }
  const dir = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(dir.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, dir, end])
}

/** An .xlsx-looking zip whose one sheet inflates to `inflated` bytes of zeros. */
function zipBomb(inflated: number, declared?: number): Buffer {
  const types = Buffer.from('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')
  const workbook = Buffer.from('<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>')
  const sheet = deflateRawSync(Buffer.alloc(inflated), { level: 9 })
  return zip([
    { name: '[Content_Types].xml', data: types, rawSize: types.length, method: 0 },
    { name: 'xl/workbook.xml', data: workbook, rawSize: workbook.length, method: 0 },
    { name: 'xl/worksheets/sheet1.xml', data: sheet, rawSize: inflated, declared },
  ])
}

/** A PNG whose IHDR claims width x height (valid signature and CRC, no pixel data). */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 6, 0, 0, 0], 8)
  const type = Buffer.from('IHDR')
  const len = Buffer.alloc(4)
  len.writeUInt32BE(13)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([type, ihdr])))
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), len, type, ihdr, crc])
}

/** Sends `size` bytes of `fill` in one streamed PATCH, never holding them in memory. */
async function streamUpload(base: string, size: number, meta: Record<string, string>, fill: number): Promise<string> {
  const url = await createUpload(base, size, meta)
  const block = Buffer.alloc(4 * MiB, fill)
  await new Promise<void>((resolve, reject) => {
    const req = http.request(url, { method: 'PATCH', headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(size) } })
    req.on('response', (res) => {
      res.resume()
      res.statusCode === 204 ? resolve() : reject(new Error(`PATCH answered ${res.statusCode}`))
    })
    req.on('error', reject)
    let sent = 0
    const pump = () => {
      while (sent < size) {
        const n = Math.min(block.length, size - sent)
        sent += n
        if (!req.write(n === block.length ? block : block.subarray(0, n))) return void req.once('drain', pump)
      }
      req.end()
    }
    pump()
  })
  return idOf(url)
}

function craftedWorkbook(): Buffer {
  const wb = XLSX.utils.book_new()
  const rows = [['__proto__', 'constructor', 'prototype'], ['polluted', 'yes', 1], ['x', 'y', 2]]
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), '__proto__')
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['constructor'], ['prototype']]), 'constructor')
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer
}

function expectWithinTimeLimit(file: FileBody): void {
  const took = Date.parse(file.processedAt ?? '') - Date.parse(file.processingStartedAt ?? '')
  expect(took).toBeLessThan(PARSE_TIMEOUT_SECONDS * 1000)
}

describe.each(backends())('hostile files on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, { PARSE_TIMEOUT_SECONDS: String(PARSE_TIMEOUT_SECONDS), WORKER_CONCURRENCY: '2' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** Uploads a hostile file and an ordinary one beside it; both settle, the ordinary one ready. */
  async function alongsideOrdinary(upload: () => Promise<string>): Promise<FileBody> {
    const [hostileId, ordinaryId] = await Promise.all([upload(), uploadFile(server.url, Buffer.from('a,b\n1,2\n'), { filename: 'ordinary.csv' })])
    const [hostile, ordinary] = await Promise.all([settled(server.url, hostileId, 180_000), settled(server.url, ordinaryId, 180_000)])
    expect(ordinary).toMatchObject({ status: 'ready', metadata: { rows: 1, columns: 2 } })
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    expect(await parserTempFiles(server.testEnv.dataDir)).toEqual([])
    return hostile
  }

  it('refuses a zip bomb disguised as .xlsx whose headers declare the real size', async () => {
    const file = await alongsideOrdinary(() => uploadFile(server.url, zipBomb(600 * MiB), { filename: 'report.xlsx' }))
    expect(file).toMatchObject({ status: 'failed', error: { code: 'zip_bomb' } })
    expectWithinTimeLimit(file)
  })

  it('refuses a zip bomb disguised as .xlsx whose headers lie about its size', async () => {
    const file = await alongsideOrdinary(() => uploadFile(server.url, zipBomb(600 * MiB, 4096), { filename: 'liar.xlsx' }))
    expect(file).toMatchObject({ status: 'failed', error: { code: 'zip_bomb' } })
    expectWithinTimeLimit(file)
  })

  it('reads a crafted xlsx full of __proto__ names as plain data', async () => {
    const file = await alongsideOrdinary(() => uploadFile(server.url, craftedWorkbook(), { filename: 'crafted.xlsx' }))
    expect(file.status).toBe('ready')
    expect(file.metadata.sheetNames).toEqual(['__proto__', 'constructor'])
    const sheets = file.metadata.sheets as { name: string; columnNames: string[] }[]
    expect(sheets.map((s) => s.name)).toEqual(['__proto__', 'constructor'])
    expect(sheets[0]?.columnNames).toEqual(['__proto__', 'constructor', 'prototype'])
  })

  it('fails a PDF whose xref is broken and whose body is garbage', async () => {
    const pdf = Buffer.from(`%PDF-1.7\n${'garbage '.repeat(500)}\nxref\n0 9999\nnot an xref table\ntrailer\n<< /Root 77 0 R /Size 9999 >>\nstartxref\n999999\n%%EOF\n`)
    const file = await alongsideOrdinary(() => uploadFile(server.url, pdf, { filename: 'broken.pdf', filetype: 'application/pdf' }))
    expect(file).toMatchObject({ status: 'failed', error: { code: expect.stringMatching(/^(corrupt_file|parse_failed)$/) } })
    expectWithinTimeLimit(file)
  })

  it('fails JSON nested 100,000 levels deep', async () => {
    const json = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)
    const file = await alongsideOrdinary(() => uploadFile(server.url, json, { filename: 'deep.json', filetype: 'application/json' }))
    expect(file).toMatchObject({ status: 'failed', error: { code: 'json_too_deep' } })
    expectWithinTimeLimit(file)
  })

  it('fails an image whose header claims 100,000 x 100,000 pixels', async () => {
    const file = await alongsideOrdinary(() => uploadFile(server.url, pngHeader(100_000, 100_000), { filename: 'huge.png', filetype: 'image/png' }))
    expect(file).toMatchObject({ status: 'failed', error: { code: 'image_too_large' } })
    expect(file.error?.message).toMatch(/100,?000/)
    expectWithinTimeLimit(file)
  })

  // 1 GB moves through the store once per backend that runs it; the disk backend is enough to show the parser's guard.
  it.runIf(!backend.s3)('fails a 1 GB text file that is one single line, quickly', async () => {
    const file = await alongsideOrdinary(() => streamUpload(server.url, 1000 * MiB, { filename: 'one-line.txt', filetype: 'text/plain' }, 0x61))
    expect(file).toMatchObject({ status: 'failed', error: { code: 'line_too_long' } })
    expectWithinTimeLimit(file)
  })
})
