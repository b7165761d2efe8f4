/**
 * The REST API over real uploads: files are sent with raw tus requests, then
 * listed, paged, described, downloaded (whole, by range, by HEAD) and deleted
 * through /api/files, on every backend.
 */
import type { IncomingMessage } from 'node:http'
import { parse as parseContentDisposition } from 'content-disposition'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listedBefore } from '../web/src/file-json.ts'
import { backends, UPLOAD_ONLY } from './helpers/backends.ts'
import { expectJsonError, uploadFile } from './helpers/files.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { createUpload, idOf, patch, randomData, sha256, TUS } from './helpers/tus.ts'

type FileJson = { id: string; filename: string; contentType: string; size: number; status: string; createdAt: string; updatedAt: string }
type Page = { files: FileJson[]; nextCursor: string | null }

const UNKNOWN_ID = '0f0e0d0c-0b0a-4908-8706-050403020100'

async function listPage(base: string, query = ''): Promise<Page> {
  const res = await fetch(`${base}/api/files${query}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Page
}

/** Follows nextCursor from the first page to the last; returns every id in the order served. */
async function walkAll(base: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page: Page = await listPage(base, `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    expect(page.files.length).toBeLessThanOrEqual(limit)
    ids.push(...page.files.map((f) => f.id))
    cursor = page.nextCursor
    pages++
  } while (cursor && pages < 100)
  return { ids, pages }
}

describe.each(backends())('GET /api/files on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, UPLOAD_ONLY)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('lists finished uploads newest first with the contract fields', async () => {
    const sent: { id: string; size: number; type: string }[] = []
    for (const [i, type] of ['text/csv', 'application/pdf', 'image/png'].entries()) {
      const data = randomData(100 + i)
      sent.push({ id: await uploadFile(server.url, data, { filename: `file-${i}`, filetype: type }), size: data.length, type })
    }
    const { files } = await listPage(server.url)
    const mine = files.filter((f) => sent.some((s) => s.id === f.id))
    expect(mine.map((f) => f.id)).toEqual(sent.map((s) => s.id).reverse())
    for (const [i, s] of sent.entries()) {
      const file = mine.find((f) => f.id === s.id)
      expect(file).toMatchObject({
        id: s.id,
        filename: `file-${i}`,
        contentType: s.type,
        size: s.size,
        status: 'uploaded',
        description: null,
        metadata: {},
        error: null,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      })
    }
  })

  it('walks every file exactly once with limit=2 and nextCursor', async () => {
    for (let i = 0; i < 5; i++) await uploadFile(server.url, randomData(10), { filename: `walk-${i}.bin` })
    const everything = (await listPage(server.url, '?limit=200')).files.map((f) => f.id)
    expect(everything.length).toBeGreaterThanOrEqual(5)
    const { ids, pages } = await walkAll(server.url, 2)
    expect(ids).toEqual(everything)
    expect(new Set(ids).size).toBe(ids.length)
    expect(pages).toBe(Math.ceil(everything.length / 2))
  })

  it('walks uploads created within the same millisecond exactly once', async () => {
    // A burst of uploads lands within one millisecond; Postgres keeps microseconds.
    const burst: string[] = []
    for (let i = 0; i < 6; i++) burst.push(await uploadFile(server.url, randomData(10), { filename: `burst-${i}.bin` }))
    for (const [i, id] of burst.entries()) {
      await sql`update file set created_at = ${`2020-01-01T00:00:00.000${100 + i * 100}Z`}::timestamptz where id = ${id}`.execute(server.db)
    }
    const everything = (await listPage(server.url, '?limit=200')).files.map((f) => f.id)
    const { ids } = await walkAll(server.url, 2)
    expect(ids).toEqual(everything)
    expect(ids.filter((id) => burst.includes(id))).toEqual([...burst].reverse())
  })

  it('lists in an order a client rebuilds from the JSON alone, as the page does for a file arriving on its stream', async () => {
    // Created together, several land in one millisecond; the JSON's createdAt holds no more than that.
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => uploadFile(server.url, randomData(10), { filename: `same-ms-${i}.bin` })))
    const { rows } = await sql<{ id: string; sub: number }>`select id, (extract(microseconds from created_at)::int % 1000) as sub from file where id in (${sql.join(burst)})`.execute(server.db)
    expect(rows.map((r) => Number(r.sub))).toEqual(burst.map(() => 0))
    const listed = (await listPage(server.url, '?limit=200')).files.filter((f) => burst.includes(f.id))
    expect([...listed].sort((a, b) => (listedBefore(a, b) ? -1 : listedBefore(b, a) ? 1 : 0)).map((f) => f.id)).toEqual(listed.map((f) => f.id))
  })

  it.each(['0', '500', 'x', '1.5', ''])('answers 400 for limit=%s', async (limit) => {
    await expectJsonError(await fetch(`${server.url}/api/files?limit=${limit}`), 400, 'ERR_BAD_REQUEST')
  })

  it.each([
    ['garbage', 'not-a-cursor'],
    ['a bad id', Buffer.from('2026-01-01T00:00:00.000000Z|../../etc').toString('base64url')],
    ['an impossible date', Buffer.from(`2026-02-30T00:00:00.000000Z|${UNKNOWN_ID}`).toString('base64url')],
    ['a bad date', Buffer.from(`2026-13-45T99:00:00.000000Z|${UNKNOWN_ID}`).toString('base64url')],
    ['SQL in the date', Buffer.from(`2026-01-01'; drop table file; --|${UNKNOWN_ID}`).toString('base64url')],
  ])('answers 400 for a forged cursor (%s)', async (_what, cursor) => {
    await expectJsonError(await fetch(`${server.url}/api/files?cursor=${cursor}`), 400, 'ERR_BAD_REQUEST')
    // The table is still there.
    await listPage(server.url)
  })
})

describe.each(backends())('one file through /api/files/:id on $name', (backend) => {
  let server: TestServer
  const data = randomData(1000)
  let csvId: string
  beforeAll(async () => {
    server = await startTestServer(backend, UPLOAD_ONLY)
    csvId = await uploadFile(server.url, data, { filename: 'résumé 2024.csv', filetype: 'text/csv' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  const content = (id: string, init: RequestInit = {}) => fetch(`${server.url}/api/files/${id}/content`, init)

  it('describes one file by id', async () => {
    const res = await fetch(`${server.url}/api/files/${csvId}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: csvId, filename: 'résumé 2024.csv', contentType: 'text/csv', size: 1000, status: 'uploaded' })
  })

  it.each([
    ['an unknown uuid', UNKNOWN_ID],
    ['a non-uuid', 'not-a-uuid'],
    ['a path', '..%2F..%2Fetc%2Fpasswd'],
  ])('answers 404 ERR_FILE_NOT_FOUND for %s', async (_what, id) => {
    await expectJsonError(await fetch(`${server.url}/api/files/${id}`), 404, 'ERR_FILE_NOT_FOUND')
    await expectJsonError(await content(id), 404, 'ERR_FILE_NOT_FOUND')
  })

  it('serves the bytes with the declared type, a safe Content-Disposition and nosniff', async () => {
    const res = await content(csvId)
    expect(res.status).toBe(200)
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(data))
    expect(res.headers.get('content-type')).toBe('text/csv')
    expect(res.headers.get('content-length')).toBe('1000')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    const disposition = res.headers.get('content-disposition') ?? ''
    expect(disposition).toMatch(/^attachment;/)
    // filename* carries the real name (RFC 8187); filename= is a plain-ASCII fallback for old clients.
    expect(disposition).toContain("filename*=UTF-8''r%C3%A9sum%C3%A9%202024.csv")
    expect(disposition).toMatch(/filename="[\x20-\x7e]+"/)
    expect(disposition).toMatch(/^[\x20-\x7e]+$/)
    expect(parseContentDisposition(disposition).parameters.filename).toBe('résumé 2024.csv')
  })

  it('serves the same bytes at the tus upload URL, as tusd does', async () => {
    const res = await fetch(`${server.url}/files/${csvId}`)
    expect(res.status).toBe(200)
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(data))
    expect(res.headers.get('content-type')).toBe('text/csv')
  })

  it('names the download after the file, without its path, quotes kept inside one header', async () => {
    const name = 'a"b\r\nX-Evil: 1/../c\\d.txt'
    const id = await uploadFile(server.url, randomData(10), { filename: name, filetype: 'text/plain' })
    const res = await content(id)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-evil')).toBeNull()
    const disposition = res.headers.get('content-disposition') ?? ''
    expect(disposition).toMatch(/^attachment;/)
    expect(disposition).toMatch(/^[\x20-\x7e]+$/)
    // The record keeps the name as given; the header carries it without path or control characters.
    expect(parseContentDisposition(disposition).parameters.filename).toBe('d.txt')
    expect(((await (await fetch(`${server.url}/api/files/${id}`)).json()) as { filename: string }).filename).toBe(name)
  })

  it.each([
    ['notes.txt', 'text/plain'],
    ['blob', 'application/octet-stream'],
  ])('falls back to the type of %s when filetype is not a media type, and injects no header', async (filename, expected) => {
    const id = await uploadFile(server.url, randomData(10), { filename, filetype: 'text/html\r\nX-Evil: 1' })
    const res = await content(id)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(expected)
    expect(res.headers.get('x-evil')).toBeNull()
    expect(await (await fetch(`${server.url}/api/files/${id}`)).json()).toMatchObject({ contentType: expected })
  })

  it.each([
    ['bytes=10-19', 10, 19],
    ['bytes=-5', 995, 999],
    ['bytes=5-', 5, 999],
    ['bytes=990-5000', 990, 999],
  ])('answers Range: %s with 206 and exactly those bytes', async (range, start, end) => {
    const res = await content(csvId, { headers: { Range: range } })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`)
    expect(res.headers.get('content-length')).toBe(String(end - start + 1))
    expect(Buffer.from(await res.arrayBuffer()).equals(data.subarray(start, end + 1))).toBe(true)
  })

  it('answers an unsatisfiable range with 416 and the size in Content-Range', async () => {
    const res = await content(csvId, { headers: { Range: 'bytes=999999-' } })
    expect(res.headers.get('content-range')).toBe('bytes */1000')
    await expectJsonError(res, 416, 'ERR_INVALID_RANGE')
  })

  it('answers several ranges with the whole file', async () => {
    const res = await content(csvId, { headers: { Range: 'bytes=0-1,500-501' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-range')).toBeNull()
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(data))
  })

  it('answers HEAD on the content with its headers and no body', async () => {
    const res = await content(csvId, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe('1000')
    expect(res.headers.get('content-type')).toBe('text/csv')
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    expect((await res.arrayBuffer()).byteLength).toBe(0)
  })

  it('serves an empty upload as an empty 200', async () => {
    const id = await uploadFile(server.url, new Uint8Array(0), { filename: 'empty.txt', filetype: 'text/plain' })
    const res = await content(id, { headers: { Range: 'bytes=0-9' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe('0')
    expect((await res.arrayBuffer()).byteLength).toBe(0)
  })

  it('answers 409 ERR_UPLOAD_INCOMPLETE for the content of an unfinished upload', async () => {
    const url = await createUpload(server.url, 100, { filename: 'half.bin' })
    expect((await patch(url, 0, randomData(40))).status).toBe(204)
    await expectJsonError(await content(idOf(url)), 409, 'ERR_UPLOAD_INCOMPLETE')
    expect(await (await fetch(`${server.url}/api/files/${idOf(url)}`)).json()).toMatchObject({ status: 'uploading', size: 100 })
  })

  it('deletes a file: 204, then 404 everywhere and nothing left in storage', async () => {
    const id = await uploadFile(server.url, randomData(2000), { filename: 'doomed.bin' })
    expect(await server.storage.leftovers(id)).not.toEqual([])
    const res = await fetch(`${server.url}/api/files/${id}`, { method: 'DELETE' })
    expect(res.status).toBe(204)
    await expectJsonError(await fetch(`${server.url}/api/files/${id}`), 404, 'ERR_FILE_NOT_FOUND')
    await expectJsonError(await content(id), 404, 'ERR_FILE_NOT_FOUND')
    expect(await server.storage.leftovers(id)).toEqual([])
    // A tus client asking where to resume is told the upload is gone.
    expect((await fetch(`${server.url}/files/${id}`, { method: 'HEAD', headers: TUS })).status).toBe(404)
    expect((await listPage(server.url, '?limit=200')).files.map((f) => f.id)).not.toContain(id)
  })

  it('deletes an upload still in progress and leaves nothing behind', async () => {
    const url = await createUpload(server.url, 10_000, { filename: 'partial.bin' })
    expect((await patch(url, 0, randomData(3000))).status).toBe(204)
    const id = idOf(url)
    expect((await fetch(`${server.url}/api/files/${id}`, { method: 'DELETE' })).status).toBe(204)
    expect(await server.storage.leftovers(id)).toEqual([])
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).status).toBe(404)
    expect((await patch(url, 3000, randomData(10))).status).toBe(404)
  })

  // The DELETE's release request can reach the PATCH between its taking the lock and its write
  // starting; it must still be honoured (not lost, leaving the DELETE to a 423 after 10 s).
  it('deletes an upload while a PATCH is still streaming into it', async () => {
    const url = await createUpload(server.url, 10_000, { filename: 'streaming.bin' })
    const id = idOf(url)
    // The server takes the upload's lock as soon as it sees the PATCH; the DELETE goes out right then.
    const patchSeen = new Promise<void>((resolve) => {
      const onRequest = (req: IncomingMessage) => {
        if (req.method !== 'PATCH' || !req.url?.endsWith(id)) return
        server.server.off('request', onRequest)
        resolve()
      }
      server.server.on('request', onRequest)
    })
    // A body that sends some bytes and then stalls, like a client on a dead network.
    let stall!: ReadableStreamDefaultController<Uint8Array>
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        stall = controller
        controller.enqueue(randomData(3000))
      },
    })
    const patching = fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit)
    await patchSeen
    const res = await fetch(`${server.url}/api/files/${id}`, { method: 'DELETE' })
    stall.close()
    expect(res.status).toBe(204)
    // The PATCH was stopped to let the DELETE in; its client hears how far it got.
    expect((await patching).status).toBe(204)
    expect(await server.storage.leftovers(id)).toEqual([])
    await expectJsonError(await fetch(`${server.url}/api/files/${id}`), 404, 'ERR_FILE_NOT_FOUND')
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).status).toBe(404)
  })

  it('answers 404 for DELETE of an unknown id', async () => {
    await expectJsonError(await fetch(`${server.url}/api/files/${UNKNOWN_ID}`, { method: 'DELETE' }), 404, 'ERR_FILE_NOT_FOUND')
  })

  it('answers unknown routes with a 404 JSON error', async () => {
    await expectJsonError(await fetch(`${server.url}/api/nothing-here`), 404, 'ERR_NOT_FOUND')
    await expectJsonError(await fetch(`${server.url}/api/files/${csvId}/thumbnail`), 404, 'ERR_NOT_FOUND')
  })

  it('answers /healthz and /readyz with everything ok', async () => {
    const health = await fetch(`${server.url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', storage: { backend: backend.s3 ? 's3' : 'file', status: 'ok' } } })
  })
})
