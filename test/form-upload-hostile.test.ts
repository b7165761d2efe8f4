/**
 * Form posts (POST /api/files, multipart/form-data) that must be refused, on
 * every backend: a file over MAX_UPLOAD_SIZE (answered before the body is
 * all sent), a refused type, malformed and truncated bodies, the form limits,
 * the quota, and a client that leaves mid-body. All or nothing: each answer is
 * a 4xx JSON error saying what was wrong, no file of the request keeps a row
 * or stored bytes, and the server goes on serving normal form posts.
 */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { backends, UPLOAD_ONLY } from './helpers/backends.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { randomData, rawRequest, type RawResponse, waitFor } from './helpers/tus.ts'

const MiB = 1024 * 1024
const BOUNDARY = '----filedock-form-3b8e1d'
const FORM = { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }

type Part = { name: string; value: string | Uint8Array; filename?: string; type?: string }

const partHead = (p: Omit<Part, 'value'>) =>
  Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`)

/** A multipart/form-data body, parts in the order given. */
function multipart(parts: Part[]): Buffer {
  return Buffer.concat([...parts.flatMap((p) => [partHead(p), Buffer.from(p.value), Buffer.from('\r\n')]), Buffer.from(`--${BOUNDARY}--\r\n`)])
}

const csv = (filename: string, value: string | Uint8Array = 'a,b\n1,2\n'): Part => ({ name: 'file', filename, value, type: 'application/octet-stream' })

/** A REST error answer: the status, and { error: { code, message } } whose message matches `says`. */
function expectError(res: RawResponse, status: number, code: string, says: RegExp): void {
  expect(res.status).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  expect(JSON.parse(res.body)).toEqual({ error: { code, message: expect.stringMatching(says) } })
}

describe.each(backends())('refused form posts on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, { ...UPLOAD_ONLY, ALLOWED_TYPES: 'csv,json,txt', MAX_UPLOAD_SIZE: String(MiB), USER_QUOTA_BYTES: String(512 * 1024) })
  })
  afterAll(async () => {
    await server?.stop()
  })

  const post = (body: Uint8Array, headers: Record<string, string> = FORM) => rawRequest(`${server.url}/api/files`, 'POST', headers, body)
  const rowIds = async () => (await server.db.selectFrom('file').select('id').execute()).map((r) => r.id)

  /**
   * Runs `act` watching the ids given to storage; once it has its answer no new row is left,
   * nothing is stored for any of those ids, and a normal form post still works.
   * Returns the ids that reached storage.
   */
  async function leavesNothing(act: () => Promise<void>): Promise<string[]> {
    const before = await rowIds()
    const put = vi.spyOn(server.storage, 'putObject')
    let stored: string[]
    try {
      await act()
    } finally {
      stored = put.mock.calls.map((c) => c[0])
      put.mockRestore()
    }
    // Removed before the answer, not some time after it.
    expect((await rowIds()).filter((id) => !before.includes(id))).toEqual([])
    for (const id of stored) expect(await server.storage.leftovers(id)).toEqual([])
    expect((await post(multipart([csv('after.csv')]))).status).toBe(201)
    return stored
  }

  it('answers 413 naming the file once a part crosses MAX_UPLOAD_SIZE, before the body is all sent, keeping no file', async () => {
    const total = 50 * MiB
    const chunk = Buffer.alloc(64 * 1024, 'x')
    let sent = 0
    let answer: RawResponse | undefined
    let rows: string[] = []
    const before = await rowIds()
    const stored = await leavesNothing(async () => {
      answer = await new Promise<RawResponse>((resolve, reject) => {
        const req = http.request(`${server.url}/api/files`, { method: 'POST', agent: false, headers: FORM })
        let done = false
        req.on('response', (res) => {
          done = true
          let body = ''
          res.setEncoding('utf8').on('data', (d: string) => (body += d))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        })
        req.on('error', (error) => (done ? undefined : reject(error)))
        const write = (data: Buffer) => new Promise<void>((r) => (req.write(data) ? r() : req.once('drain', r)))
        void (async () => {
          await write(Buffer.concat([partHead(csv('small.csv')), Buffer.from('a,b\n1,2\n\r\n'), partHead(csv('big.csv')), chunk]))
          // Both files are recorded before the big one crosses the limit: both must go.
          rows = await waitFor(async () => {
            const added = (await rowIds()).filter((id) => !before.includes(id))
            return added.length === 2 ? added : undefined
          }, 10_000, 'the rows of both files')
          while (!done && sent < total) {
            await write(chunk)
            sent += chunk.length
          }
          if (!done) req.end(`\r\n--${BOUNDARY}--\r\n`)
        })().catch(reject)
      })
    })
    expectError(answer as RawResponse, 413, 'ERR_MAX_SIZE_EXCEEDED', /^big\.csv: the upload is larger than the 1 MiB this server accepts/)
    expect(stored.sort()).toEqual(rows.sort())
    expect(sent).toBeLessThan(total / 2)
  })

  it('answers 415 naming a refused file and removes the files before it', async () => {
    await leavesNothing(async () => {
      expectError(await post(multipart([csv('ok.csv', randomData(50_000)), csv('setup.exe')])), 415, 'ERR_TYPE_NOT_ALLOWED', /^setup\.exe: files of type \.exe are not accepted here \(allowed: csv, json, txt\)/)
    })
  })

  it('answers 413 when the files would take the user past the quota, and 201 within it', async () => {
    const finished = async () => Number(/^filedock_uploads_finished_total (\d+)$/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1])
    const before = await finished()
    await leavesNothing(async () => {
      const body = multipart([csv('one.csv', randomData(300 * 1024)), csv('two.csv', randomData(300 * 1024))])
      expectError(await post(body), 413, 'ERR_QUOTA_EXCEEDED', /^two\.csv: this upload of 307200 bytes would take you past your quota: 30\d{4} of 524288 bytes are in use/)
    })
    // All or nothing in one transaction: one.csv, within the quota on its own, was never finished (no job, no event).
    expect(await finished()).toBe(before + 1) // the normal post leavesNothing makes at its end
    expect((await post(multipart([csv('one.csv', randomData(300 * 1024))]))).status).toBe(201)
  })

  const value = (n: number) => 'v'.repeat(n)
  const fields = (n: number) => Array.from({ length: n }, (_, i): Part => ({ name: `f${i}`, value: 'v' }))
  const whole = multipart([csv('cut.csv', randomData(20_000))])
  const malformed: [string, Record<string, string>, Buffer, number, string, RegExp][] = [
    ['a Content-Type without a boundary', { 'Content-Type': 'multipart/form-data; charset=utf-8' }, whole, 400, 'ERR_BAD_REQUEST', /malformed multipart\/form-data: .*boundary not found/i],
    ['a bare multipart/form-data Content-Type', { 'Content-Type': 'multipart/form-data' }, whole, 400, 'ERR_BAD_REQUEST', /malformed multipart\/form-data: .*boundary not found/i],
    ['a boundary that never appears in the body', { 'Content-Type': 'multipart/form-data; boundary=elsewhere' }, whole, 400, 'ERR_BAD_REQUEST', /Unexpected end of form/],
    ['a body cut before its closing boundary', FORM, whole.subarray(0, 15_000), 400, 'ERR_BAD_REQUEST', /Unexpected end of form/],
    ['a form without a file', FORM, multipart([{ name: 'intent', value: 'hello' }]), 400, 'ERR_BAD_REQUEST', /the form has no file/],
    ['a file part with filename=""', FORM, multipart([csv('ok.csv'), csv('')]), 400, 'ERR_BAD_REQUEST', /empty filename/],
    ['a typed part with filename="" (busboy sees a field)', FORM, multipart([csv('ok.csv'), { name: 'file', filename: '', value: 'x,y\n', type: 'text/csv' }]), 400, 'ERR_BAD_REQUEST', /has a type \(text\/csv\) but no filename/],
    ['a JSON body', { 'Content-Type': 'application/json' }, Buffer.from('{"file":"a.csv"}'), 415, 'ERR_CONTENT_TYPE', /takes multipart\/form-data/],
    ['21 files', FORM, multipart(Array.from({ length: 21 }, (_, i) => csv(`f${i}.csv`))), 400, 'ERR_BAD_REQUEST', /at most 20 files per request/],
    ['31 text fields', FORM, multipart([csv('ok.csv'), ...fields(31)]), 400, 'ERR_BAD_REQUEST', /at most 30 text fields per request/],
    ['a field over 64 KiB', FORM, multipart([csv('ok.csv'), { name: 'message', value: value(64 * 1024 + 1) }]), 400, 'ERR_BAD_REQUEST', /the field message is longer than 65536 bytes/],
    ['a field name with spaces', FORM, multipart([csv('ok.csv'), { name: 'my intent', value: 'x' }]), 400, 'ERR_BAD_REQUEST', /field names are 1 to 64 letters/],
    ['a NUL in a field value', FORM, multipart([csv('ok.csv'), { name: 'intent', value: 'a\u0000b' }]), 400, 'ERR_BAD_REQUEST', /the field intent contains a NUL character/],
  ]

  it.each(malformed)('refuses %s and keeps nothing', async (_what, headers, body, status, code, says) => {
    await leavesNothing(async () => expectError(await post(body, headers), status, code, says))
  })

  it('keeps no row and no bytes of a client that leaves mid-file', async () => {
    const before = await rowIds()
    const req = http.request(`${server.url}/api/files`, { method: 'POST', agent: false, headers: { ...FORM, 'Content-Length': String(900 * 1024) } })
    req.on('error', () => {})
    req.write(Buffer.concat([partHead(csv('leaving.csv')), randomData(256 * 1024)]))
    const id = await waitFor(async () => (await rowIds()).find((r) => !before.includes(r)), 10_000, 'the row of the file')
    req.destroy()
    await waitFor(async () => ((await rowIds()).includes(id) ? undefined : true), 5_000, 'the row to go')
    await waitFor(async () => ((await server.storage.leftovers(id)).length === 0 ? true : undefined), 5_000, 'the bytes to go')
    expect((await post(multipart([csv('after.csv')]))).status).toBe(201)
  })
})
