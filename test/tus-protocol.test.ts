/**
 * The tus 1.0.0 protocol, rule by rule, in raw HTTP against the running
 * server on every backend. Each test quotes the spec sentence it checks
 * (https://tus.io/protocols/resumable-upload, version 1.0.0). node:http is
 * used where fetch cannot say what a client on the wire says: repeated
 * headers, chunked bodies, a body that stalls or a connection that is cut.
 */
import { randomUUID } from 'node:crypto'
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends, UPLOAD_ONLY } from './helpers/backends.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { b64, createUpload, idOf, metadataHeader, patch, randomData, sha256, TUS, waitFor, rawRequest, type RawResponse } from './helpers/tus.ts'
import { contentSha } from './helpers/files.ts'

const KiB = 1024
const MAX_UPLOAD_SIZE = 1024 * KiB
const OCTET_STREAM = { 'Content-Type': 'application/offset+octet-stream' } as const
const ORIGIN = 'https://app.example'
const EXTENSIONS = ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration']
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/


/** A PATCH whose body the test writes by hand; `response` is undefined when the connection died first. */
function openPatch(url: string, offset: number, contentLength: number) {
  const req = http.request(url, {
    method: 'PATCH',
    agent: false,
    headers: { ...TUS, ...OCTET_STREAM, 'Upload-Offset': String(offset), 'Content-Length': String(contentLength) },
  })
  const response = new Promise<RawResponse | undefined>((resolve) => {
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }))
      res.on('error', () => resolve(undefined))
    })
    req.on('error', () => resolve(undefined))
  })
  req.flushHeaders()
  return { req, response }
}

function head(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'HEAD', headers: { ...TUS, ...headers } })
}

async function offsetOf(url: string): Promise<number> {
  const res = await head(url)
  expect(res.status).toBe(200)
  return Number(res.headers.get('upload-offset'))
}

/** A fetch body: DOM typings accept only bytes backed by a plain ArrayBuffer, which a copy is. */
function bytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(data)
}

function post(base: string, headers: Record<string, string>, body?: Uint8Array): Promise<Response> {
  return fetch(`${base}/files`, { method: 'POST', headers, body: body && bytes(body) })
}

async function fileRecord(base: string, id: string): Promise<{ status: number; file?: { status: string; size: number | null; filename: string; error: { code: string } | null } }> {
  const res = await fetch(`${base}/api/files/${id}`)
  return { status: res.status, file: res.status === 200 ? await res.json() : undefined }
}

async function filenames(base: string): Promise<string[]> {
  const res = await fetch(`${base}/api/files?limit=200`)
  expect(res.status).toBe(200)
  const body = (await res.json()) as { files: Array<{ filename: string }> }
  return body.files.map((f) => f.filename)
}

/** A unique filename, so that "no upload was created" can be checked in the listing. */
function uniqueName(what: string): string {
  return `${what}-${randomUUID()}.bin`
}

/** The server's side of the next request to upload `id`, to watch how much of a body it has read. */
function serverSideOf(server: TestServer, id: string): Promise<IncomingMessage> {
  return new Promise((resolve) => {
    const onRequest = (req: IncomingMessage) => {
      if (!req.url?.endsWith(id)) return
      server.server.off('request', onRequest)
      resolve(req)
    }
    server.server.on('request', onRequest)
  })
}

/**
 * Waits until the server has read `count` bytes from the connection of a running
 * PATCH. The S3 store spools a body until it ends, so HEAD cannot show them.
 */
async function arrived(serverSide: Promise<IncomingMessage>, count: number): Promise<void> {
  const req = await serverSide
  await waitFor(async () => (req.socket.bytesRead >= count ? true : undefined), 10_000, `${count} bytes read by the server`)
}

/** What a tus client does after an interruption: HEAD, PATCH the rest, and on 409 retry from the offset it names. */
async function resume(url: string, data: Uint8Array): Promise<number[]> {
  const statuses: number[] = []
  let offset = await offsetOf(url)
  while (offset < data.length && statuses.length < 5) {
    const res = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': String(offset) }, data.subarray(offset))
    statuses.push(res.status)
    if (res.status !== 204 && res.status !== 409) break
    offset = Number(res.headers['upload-offset'])
  }
  return statuses
}

function headerList(value: string | null | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim().toLowerCase()).filter(Boolean)
}

describe.each(backends())('tus 1.0.0 on $name', (backend) => {
  let server: TestServer
  let base: string
  beforeAll(async () => {
    server = await startTestServer(backend, { ...UPLOAD_ONLY, MAX_UPLOAD_SIZE: String(MAX_UPLOAD_SIZE) })
    base = server.url
  })
  afterAll(async () => {
    await server?.stop()
  })

  describe('OPTIONS', () => {
    it('answers 204 with Tus-Version, the extensions and Tus-Max-Size, without asking for Tus-Resumable', async () => {
      // "A successful response indicated by the 204 No Content or 200 OK status MUST contain the Tus-Version header. It MAY include the Tus-Extension and Tus-Max-Size headers."
      // "The Client SHOULD NOT include the Tus-Resumable header in the request and the Server MUST ignore the header."
      const res = await fetch(`${base}/files`, { method: 'OPTIONS' })
      expect(res.status).toBe(204)
      expect(res.headers.get('tus-version')).toBe('1.0.0')
      expect(headerList(res.headers.get('tus-extension')).sort()).toEqual([...EXTENSIONS].sort())
      expect(res.headers.get('tus-max-size')).toBe(String(MAX_UPLOAD_SIZE))
    })

    it('ignores an unsupported Tus-Resumable on OPTIONS', async () => {
      // "The Client SHOULD NOT include the Tus-Resumable header in the request and the Server MUST ignore the header."
      const res = await fetch(`${base}/files`, { method: 'OPTIONS', headers: { 'Tus-Resumable': '0.2.2' } })
      expect(res.status).toBe(204)
      expect(res.headers.get('tus-version')).toBe('1.0.0')
    })
  })

  describe('Tus-Resumable', () => {
    const cases = ['POST', 'HEAD', 'PATCH', 'DELETE'].flatMap((method) => [
      { method, label: 'missing', version: undefined },
      { method, label: 'unsupported (0.2.2)', version: '0.2.2' },
    ])

    it.each(cases)('answers a $method with $label Tus-Resumable with 412 and Tus-Version, and does nothing', async ({ method, version }) => {
      // "If the version specified by the Client is not supported by the Server, it MUST respond with the 412 Precondition Failed status and MUST include the Tus-Version header into the response. In addition, the Server MUST NOT process the request."
      const headers: Record<string, string> = version ? { 'Tus-Resumable': version } : {}
      const data = randomData(10)
      const url = await createUpload(base, 100)
      expect((await patch(url, 0, data)).status).toBe(204)
      const name = uniqueName('refused')
      let res: Response
      if (method === 'POST') res = await post(base, { ...headers, 'Upload-Length': '10', 'Upload-Metadata': metadataHeader({ filename: name }) })
      else if (method === 'PATCH') res = await fetch(url, { method, headers: { ...headers, ...OCTET_STREAM, 'Upload-Offset': '10' }, body: bytes(data) })
      else res = await fetch(url, { method, headers })
      expect(res.status).toBe(412)
      expect(res.headers.get('tus-version')).toBe('1.0.0')
      expect(await offsetOf(url)).toBe(10)
      expect(await filenames(base)).not.toContain(name)
    })
  })

  describe('creation (POST)', () => {
    it('answers 201 with a Location that names the new upload', async () => {
      // "The Server MUST acknowledge a successful upload creation with the 201 Created status. The Server MUST set the Location header to the URL of the created resource."
      const res = await post(base, { ...TUS, 'Upload-Length': '100' })
      expect(res.status).toBe(201)
      expect(res.headers.get('tus-resumable')).toBe('1.0.0')
      const location = new URL(res.headers.get('location') ?? '', base).toString()
      expect(location).toMatch(/\/files\/[0-9a-f-]{36}$/)
      const check = await head(location)
      expect(check.status).toBe(200)
      expect(check.headers.get('upload-offset')).toBe('0')
      expect(check.headers.get('upload-length')).toBe('100')
    })

    it.each<{ label: string; headers: Record<string, string> }>([
      { label: 'both Upload-Length and Upload-Defer-Length', headers: { 'Upload-Length': '10', 'Upload-Defer-Length': '1' } },
      { label: 'neither Upload-Length nor Upload-Defer-Length', headers: {} },
    ])('refuses a creation with $label with 400', async ({ headers }) => {
      // "The request MUST include one of the following headers: a) Upload-Length ... b) Upload-Defer-Length: 1"
      const name = uniqueName('length')
      const res = await post(base, { ...TUS, ...headers, 'Upload-Metadata': metadataHeader({ filename: name }) })
      expect(res.status).toBe(400)
      expect(await filenames(base)).not.toContain(name)
    })

    it.each(['0', '2', 'true'])('refuses Upload-Defer-Length: %s with 400', async (value) => {
      // "If the Upload-Defer-Length header contains any other value than 1 the server should return a 400 Bad Request status."
      const res = await post(base, { ...TUS, 'Upload-Defer-Length': value })
      expect(res.status).toBe(400)
    })

    it.each([
      { label: 'negative', value: '-1' },
      { label: 'non-numeric', value: 'ten' },
      { label: 'fractional', value: '1.5' },
      { label: 'duplicated', value: ['10', '10'] },
    ])('refuses a $label Upload-Length with 400', async ({ value }) => {
      // "The Upload-Length request and response header indicates the size of the entire upload in bytes. The value MUST be a non-negative integer."
      const res = await rawRequest(`${base}/files`, 'POST', { ...TUS, 'Upload-Length': value })
      expect(res.status).toBe(400)
      expect(res.headers.location).toBeUndefined()
    })

    it('refuses an Upload-Length above Tus-Max-Size with 413', async () => {
      // "If the length of the upload exceeds the maximum, which MAY be specified using the Tus-Max-Size header, the Server MUST respond with the 413 Request Entity Too Large status."
      const res = await post(base, { ...TUS, 'Upload-Length': String(MAX_UPLOAD_SIZE + 1) })
      expect(res.status).toBe(413)
      expect(res.headers.get('location')).toBeNull()
    })

    it('accepts an Upload-Length equal to Tus-Max-Size', async () => {
      // "If the length of the upload exceeds the maximum ... the Server MUST respond with the 413" (equal does not exceed)
      const res = await post(base, { ...TUS, 'Upload-Length': String(MAX_UPLOAD_SIZE) })
      expect(res.status).toBe(201)
    })

    it.each([
      { label: 'a value that is not base64', value: 'filename !!!!' },
      { label: 'a value of the wrong length for base64', value: 'filename YWJj=' },
      { label: 'three tokens in a pair', value: 'filename YQ== YQ==' },
      { label: 'an empty key', value: 'filename YQ==,,filetype YQ==' },
    ])('refuses Upload-Metadata with $label with 400', async ({ value }) => {
      // "The key MUST NOT contain spaces and commas and MUST NOT be empty. The key SHOULD be ASCII encoded and the value MUST be Base64 encoded."
      const res = await post(base, { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': value })
      expect(res.status).toBe(400)
      expect(res.headers.get('location')).toBeNull()
    })

    it('refuses Upload-Metadata with a duplicated key with 400', async () => {
      // "All keys MUST be unique."
      const res = await post(base, { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': `filename ${b64('a.txt')},filename ${b64('b.txt')}` })
      expect(res.status).toBe(400)
      expect(res.headers.get('location')).toBeNull()
    })

    it('announces Upload-Expires, in RFC 7231 format, when creating an upload', async () => {
      // "If the expiration is known at the creation, the Upload-Expires header MUST be included in the response to the initial POST request."
      // "The value of the Upload-Expires header MUST be in RFC 7231 datetime format."
      const res = await post(base, { ...TUS, 'Upload-Length': '10' })
      expect(res.status).toBe(201)
      const expires = res.headers.get('upload-expires') ?? ''
      expect(expires).toMatch(IMF_FIXDATE)
      expect(Date.parse(expires)).toBeGreaterThan(Date.parse(res.headers.get('date') ?? ''))
      const check = await head(new URL(res.headers.get('location') ?? '', base).toString())
      expect(check.headers.get('upload-expires')).toBe(expires)
    })

    it('refuses Upload-Concat, an extension it does not announce, with 400 and creates nothing', async () => {
      // "The Tus-Extension response header MUST be a comma-separated list of the extensions supported by the Server."
      // concatenation is not in it, so a partial upload must not silently become a plain one.
      const name = uniqueName('concat')
      const res = await post(base, { ...TUS, 'Upload-Length': '10', 'Upload-Concat': 'partial', 'Upload-Metadata': metadataHeader({ filename: name }) })
      expect(res.status).toBe(400)
      expect(await filenames(base)).not.toContain(name)
    })
  })

  describe('creation-with-upload', () => {
    it('stores the body of a creation request and reports its Upload-Offset', async () => {
      // "The Server SHOULD accept as many bytes as possible and MUST include the Upload-Offset header in the response and MUST set its value to the offset of the upload after applying the accepted bytes."
      const data = randomData(1000)
      const res = await post(base, { ...TUS, ...OCTET_STREAM, 'Upload-Length': '1000' }, data.subarray(0, 400))
      expect(res.status).toBe(201)
      expect(res.headers.get('upload-offset')).toBe('400')
      const url = new URL(res.headers.get('location') ?? '', base).toString()
      expect(await offsetOf(url)).toBe(400)
      expect((await patch(url, 400, data.subarray(400))).status).toBe(204)
      expect(await contentSha(base, idOf(url))).toBe(sha256(data))
    })

    it('finishes an upload whose whole body came chunked with the creation request', async () => {
      // "The Client MAY include either the entirety or a chunk of the upload data in the body of the POST request."
      const data = randomData(3000)
      const res = await rawRequest(`${base}/files`, 'POST', { ...TUS, ...OCTET_STREAM, 'Upload-Length': '3000' }, [data.subarray(0, 1000), data.subarray(1000)])
      expect(res.status).toBe(201)
      expect(res.headers['upload-offset']).toBe('3000')
      const id = idOf(res.headers.location ?? '')
      expect((await fileRecord(base, id)).file).toMatchObject({ status: 'uploaded', size: 3000 })
      expect(await contentSha(base, id)).toBe(sha256(data))
    })

    it('refuses a creation body with another Content-Type with 415 and creates nothing', async () => {
      // "The Client MUST include the Content-Type: application/offset+octet-stream header." (PATCH rules apply: "otherwise the server SHOULD return a 415 Unsupported Media Type status")
      const name = uniqueName('wrong-type')
      const res = await post(base, { ...TUS, 'Content-Type': 'text/plain', 'Upload-Length': '5', 'Upload-Metadata': metadataHeader({ filename: name }) }, Buffer.from('hello'))
      expect(res.status).toBe(415)
      expect(res.headers.get('location')).toBeNull()
      expect(await filenames(base)).not.toContain(name)
    })

    it('refuses a creation body longer than Upload-Length with 413 and creates nothing', async () => {
      // "In this case, similar rules as for the PATCH request and response apply." A body past Upload-Length is refused.
      const name = uniqueName('too-long')
      const res = await post(base, { ...TUS, ...OCTET_STREAM, 'Upload-Length': '5', 'Upload-Metadata': metadataHeader({ filename: name }) }, Buffer.from('hello world'))
      expect(res.status).toBe(413)
      expect(res.headers.get('location')).toBeNull()
      expect(await filenames(base)).not.toContain(name)
    })

    it('refuses a chunked creation body longer than Upload-Length with 413 and leaves no upload behind', async () => {
      // "In this case, similar rules as for the PATCH request and response apply." Without Content-Length the excess shows
      // only while reading, after the upload was made; without a Location no client could ever resume it.
      const name = uniqueName('too-long-chunked')
      const headers = { ...TUS, ...OCTET_STREAM, 'Upload-Length': '5', 'Upload-Metadata': metadataHeader({ filename: name }) }
      const res = await rawRequest(`${base}/files`, 'POST', headers, [Buffer.from('hello'), Buffer.from(' world')])
      expect(res.status).toBe(413)
      expect(res.headers.location).toBeUndefined()
      expect(await filenames(base)).not.toContain(name)
    })
  })

  describe('zero-byte upload', () => {
    it('finishes an upload with Upload-Length: 0 at creation and serves it as an empty file', async () => {
      // "The new resource has an implicit offset of 0": with a length of 0 there is nothing left to send.
      const url = await createUpload(base, 0, { filename: 'empty.txt', filetype: 'text/plain' })
      const check = await head(url)
      expect(check.headers.get('upload-offset')).toBe('0')
      expect(check.headers.get('upload-length')).toBe('0')
      expect((await fileRecord(base, idOf(url))).file).toMatchObject({ status: 'uploaded', size: 0 })
      const content = await fetch(`${base}/api/files/${idOf(url)}/content`)
      expect(content.status).toBe(200)
      expect(await content.text()).toBe('')
    })
  })

  describe('creation-defer-length', () => {
    it('keeps Upload-Defer-Length: 1 until a PATCH declares the length, then finishes with that size', async () => {
      // "Once it is known the Client MUST set the Upload-Length header in the next PATCH request. ... As long as the length of the upload is not known, the Server MUST set Upload-Defer-Length: 1 in all responses to HEAD requests."
      const data = randomData(3000)
      const url = await createUpload(base, 'defer')
      let check = await head(url)
      expect(check.headers.get('upload-defer-length')).toBe('1')
      expect(check.headers.get('upload-length')).toBeNull()
      expect((await patch(url, 0, data.subarray(0, 1000))).headers.get('upload-offset')).toBe('1000')
      check = await head(url)
      expect(check.headers.get('upload-defer-length')).toBe('1')
      expect(check.headers.get('upload-length')).toBeNull()

      const declared = await patch(url, 1000, data.subarray(1000, 2000), { 'Upload-Length': '3000' })
      expect(declared.status).toBe(204)
      expect(declared.headers.get('upload-offset')).toBe('2000')
      check = await head(url)
      expect(check.headers.get('upload-length')).toBe('3000')
      expect(check.headers.get('upload-defer-length')).toBeNull()

      expect((await patch(url, 2000, data.subarray(2000))).headers.get('upload-offset')).toBe('3000')
      expect((await fileRecord(base, idOf(url))).file).toMatchObject({ status: 'uploaded', size: 3000 })
      expect(await contentSha(base, idOf(url))).toBe(sha256(data))
    })

    it('refuses a declared length above Tus-Max-Size with 413 and keeps the length deferred', async () => {
      // "If the length of the upload exceeds the maximum, which MAY be specified using the Tus-Max-Size header, the Server MUST respond with the 413 Request Entity Too Large status."
      const url = await createUpload(base, 'defer')
      const res = await patch(url, 0, randomData(10), { 'Upload-Length': String(MAX_UPLOAD_SIZE + 1) })
      expect(res.status).toBe(413)
      const check = await head(url)
      expect(check.headers.get('upload-defer-length')).toBe('1')
      expect(check.headers.get('upload-offset')).toBe('0')
    })

    it('refuses a second, different Upload-Length with 400 and keeps the first', async () => {
      // "Once set the length MUST NOT be changed."
      const url = await createUpload(base, 'defer')
      expect((await patch(url, 0, randomData(10), { 'Upload-Length': '100' })).status).toBe(204)
      const res = await patch(url, 10, randomData(10), { 'Upload-Length': '200' })
      expect(res.status).toBe(400)
      const check = await head(url)
      expect(check.headers.get('upload-length')).toBe('100')
      expect(check.headers.get('upload-offset')).toBe('10')
    })
  })

  describe('PATCH', () => {
    it.each<{ label: string; headers: Record<string, string> }>([
      { label: 'no Content-Type', headers: {} },
      { label: 'Content-Type: application/octet-stream', headers: { 'Content-Type': 'application/octet-stream' } },
    ])('refuses a PATCH with $label with 415 and stores nothing', async ({ headers }) => {
      // "All PATCH requests MUST use Content-Type: application/offset+octet-stream, otherwise the server SHOULD return a 415 Unsupported Media Type status."
      const url = await createUpload(base, 100)
      const res = await fetch(url, { method: 'PATCH', headers: { ...TUS, ...headers, 'Upload-Offset': '0' }, body: bytes(randomData(10)) })
      expect(res.status).toBe(415)
      expect(await offsetOf(url)).toBe(0)
    })

    it.each([
      { label: 'a missing', value: undefined },
      { label: 'a negative', value: '-1' },
      { label: 'a non-numeric', value: 'zero' },
      { label: 'a duplicated', value: ['0', '0'] },
    ])('refuses a PATCH with $label Upload-Offset with 400 and stores nothing', async ({ value }) => {
      // "The Upload-Offset request and response header indicates a byte offset within a resource. The value MUST be a non-negative integer."
      const url = await createUpload(base, 100)
      const headers: OutgoingHttpHeaders = { ...TUS, ...OCTET_STREAM }
      if (value !== undefined) headers['Upload-Offset'] = value
      const res = await rawRequest(url, 'PATCH', headers, randomData(10))
      expect(res.status).toBe(400)
      expect(await offsetOf(url)).toBe(0)
    })

    it.each([
      { label: 'behind', offset: 0 },
      { label: 'ahead of', offset: 20 },
    ])('answers a PATCH $label the current offset with 409 carrying the current Upload-Offset', async ({ offset }) => {
      // "If the offsets do not match, the Server MUST respond with the 409 Conflict status without modifying the upload resource."
      const url = await createUpload(base, 100)
      expect((await patch(url, 0, randomData(10))).status).toBe(204)
      const res = await patch(url, offset, randomData(10))
      expect(res.status).toBe(409)
      expect(res.headers.get('upload-offset')).toBe('10')
      expect(await offsetOf(url)).toBe(10)
    })

    it('refuses a PATCH body past Upload-Length with 413 and stores nothing of it', async () => {
      // "The Upload-Length request and response header indicates the size of the entire upload in bytes." No body may go past it.
      const url = await createUpload(base, 100)
      expect((await patch(url, 0, randomData(60))).status).toBe(204)
      const res = await patch(url, 60, randomData(50))
      expect(res.status).toBe(413)
      expect(await offsetOf(url)).toBe(60)
    })

    it('refuses a chunked PATCH body that runs past Upload-Length with 413 and keeps the bytes acknowledged before', async () => {
      // "The Server SHOULD always attempt to store as much of the received data as possible." Bytes it already acknowledged, above all.
      const data = randomData(1000)
      const url = await createUpload(base, data.length)
      expect((await patch(url, 0, data.subarray(0, 400))).headers.get('upload-offset')).toBe('400')
      const res = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '400' }, [data.subarray(400, 700), data.subarray(700), randomData(100)])
      expect(res.status).toBe(413)
      const offset = await offsetOf(url)
      expect(offset).toBeGreaterThanOrEqual(400)
      expect(offset).toBeLessThanOrEqual(data.length)
      const statuses = await resume(url, data)
      expect(statuses.every((s) => s === 204)).toBe(true)
      expect(await contentSha(base, idOf(url))).toBe(sha256(data))
    })

    it('answers a PATCH with 204, the new Upload-Offset and Upload-Expires', async () => {
      // "The Server MUST acknowledge successful PATCH requests with the 204 No Content status. It MUST include the Upload-Offset header containing the new offset."
      // "This header [Upload-Expires] MUST be included in every PATCH response if the upload is going to expire."
      const url = await createUpload(base, 100)
      const res = await patch(url, 0, randomData(40))
      expect(res.status).toBe(204)
      expect(res.headers.get('upload-offset')).toBe('40')
      expect(res.headers.get('upload-expires')).toMatch(IMF_FIXDATE)
      expect(await offsetOf(url)).toBe(40)
    })

    it('appends a chunked PATCH body at the offset', async () => {
      // "apply the bytes contained in the message at the given offset specified by the Upload-Offset header"
      const data = randomData(2000)
      const url = await createUpload(base, data.length)
      const res = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '0' }, [data.subarray(0, 500), data.subarray(500)])
      expect(res.status).toBe(204)
      expect(res.headers['upload-offset']).toBe('2000')
      expect(await contentSha(base, idOf(url))).toBe(sha256(data))
    })
  })

  describe('unknown uploads', () => {
    const cases = ['HEAD', 'PATCH', 'DELETE'].flatMap((method) => [
      { method, label: 'a random uuid', id: () => randomUUID() },
      { method, label: 'an id that is no uuid', id: () => 'not-an-upload' },
    ])

    it.each(cases)('answers $method on $label with 404 and no Upload-Offset', async ({ method, id }) => {
      // "If the server receives a PATCH request against a non-existent resource it SHOULD return a 404 Not Found status."
      // HEAD: "If the resource is not found, the Server SHOULD return either the 404 Not Found, 410 Gone or 403 Forbidden status without the Upload-Offset header."
      const headers: Record<string, string> = method === 'PATCH' ? { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '0' } : { ...TUS }
      const res = await fetch(`${base}/files/${id()}`, { method, headers, body: method === 'PATCH' ? bytes(randomData(10)) : undefined })
      expect(res.status).toBe(404)
      expect(res.headers.get('upload-offset')).toBeNull()
    })
  })

  describe('HEAD', () => {
    it('answers 200 with the offset, the length, the metadata exactly as sent, Cache-Control: no-store and Upload-Expires', async () => {
      // "If an upload contains additional metadata, responses to HEAD requests MUST include the Upload-Metadata header and its value as specified by the Client during the creation."
      // "The Server MUST prevent the client and/or proxies from caching the response by adding the Cache-Control: no-store header to the response."
      const metadata = `${metadataHeader({ filename: 'résumé 東京.pdf', filetype: 'application/pdf' })},is_confidential`
      const created = await post(base, { ...TUS, 'Upload-Length': '100', 'Upload-Metadata': metadata })
      expect(created.status).toBe(201)
      const url = new URL(created.headers.get('location') ?? '', base).toString()
      expect((await patch(url, 0, randomData(30))).status).toBe(204)
      const res = await head(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('upload-offset')).toBe('30')
      expect(res.headers.get('upload-length')).toBe('100')
      expect(res.headers.get('upload-metadata')).toBe(metadata)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('upload-expires')).toBe(created.headers.get('upload-expires'))
      expect((await fileRecord(base, idOf(url))).file?.filename).toBe('résumé 東京.pdf')
    })

    it('reports Upload-Offset 0 for an upload nothing was sent to', async () => {
      // "The Server MUST always include the Upload-Offset header in the response for a HEAD request, even if the offset is 0"
      const url = await createUpload(base, 100)
      const res = await head(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('upload-offset')).toBe('0')
    })
  })

  describe('termination', () => {
    it('terminates an unfinished upload: 204, then 404, nothing left in storage or the file list', async () => {
      // "When receiving a DELETE request for an existing upload the Server SHOULD free associated resources and MUST respond with the 204 No Content status confirming that the upload was terminated. For all future requests to this URL, the Server SHOULD respond with the 404 Not Found or 410 Gone status."
      const url = await createUpload(base, 1000)
      const id = idOf(url)
      expect((await patch(url, 0, randomData(300))).status).toBe(204)
      expect(await server.storage.leftovers(id)).not.toEqual([])
      const res = await fetch(url, { method: 'DELETE', headers: TUS })
      expect(res.status).toBe(204)
      expect((await head(url)).status).toBe(404)
      expect((await patch(url, 300, randomData(10))).status).toBe(404)
      expect(await server.storage.leftovers(id)).toEqual([])
      expect((await fileRecord(base, id)).status).toBe(404)
    })

    it('terminates a finished upload: 204, then 404, nothing left in storage or the file list', async () => {
      // "This extension defines a way for the Client to terminate completed and unfinished uploads allowing the Server to free up used resources."
      const url = await createUpload(base, 300)
      const id = idOf(url)
      expect((await patch(url, 0, randomData(300))).status).toBe(204)
      expect((await fileRecord(base, id)).file?.status).toBe('uploaded')
      const res = await fetch(url, { method: 'DELETE', headers: TUS })
      expect(res.status).toBe(204)
      expect((await head(url)).status).toBe(404)
      expect(await server.storage.leftovers(id)).toEqual([])
      expect((await fileRecord(base, id)).status).toBe(404)
      expect((await fetch(`${base}/api/files/${id}/content`)).status).toBe(404)
    })
  })

  describe('X-HTTP-Method-Override', () => {
    // "The X-HTTP-Method-Override request header MUST be a string which MUST be interpreted as the request's method by the Server, if the header is presented. The actual method of the request MUST be ignored."
    it('appends bytes for a POST that says PATCH', async () => {
      const url = await createUpload(base, 100)
      const res = await fetch(url, { method: 'POST', headers: { ...TUS, ...OCTET_STREAM, 'X-HTTP-Method-Override': 'PATCH', 'Upload-Offset': '0' }, body: bytes(randomData(25)) })
      expect(res.status).toBe(204)
      expect(res.headers.get('upload-offset')).toBe('25')
      expect(await offsetOf(url)).toBe(25)
    })

    it('terminates the upload for a POST that says DELETE', async () => {
      const url = await createUpload(base, 100)
      const res = await fetch(url, { method: 'POST', headers: { ...TUS, 'X-HTTP-Method-Override': 'DELETE' } })
      expect(res.status).toBe(204)
      expect((await head(url)).status).toBe(404)
    })

    it('reports the offset for a POST that says HEAD', async () => {
      const url = await createUpload(base, 100)
      expect((await patch(url, 0, randomData(7))).status).toBe(204)
      const res = await fetch(url, { method: 'POST', headers: { ...TUS, 'X-HTTP-Method-Override': 'HEAD' } })
      expect(res.status).toBe(200)
      expect(res.headers.get('upload-offset')).toBe('7')
      expect(res.headers.get('upload-length')).toBe('100')
    })
  })

  describe('CORS', () => {
    // CORS is not part of tus; the Fetch standard is: a browser script can read only the
    // response headers listed in Access-Control-Expose-Headers, and none at all without
    // Access-Control-Allow-Origin. A tus client in a browser needs them on errors too.
    const EXPOSED = ['Location', 'Upload-Offset', 'Upload-Length', 'Upload-Expires', 'Upload-Metadata', 'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size']
    const answers: Array<{ label: string; status: number; send: (base: string) => Promise<Response> }> = [
      { label: 'a 201 creation', status: 201, send: (b) => post(b, { ...TUS, Origin: ORIGIN, 'Upload-Length': '10' }) },
      { label: 'a 412 version refusal', status: 412, send: (b) => post(b, { Origin: ORIGIN, 'Upload-Length': '10' }) },
      { label: 'a 404 HEAD', status: 404, send: (b) => head(`${b}/files/${randomUUID()}`, { Origin: ORIGIN }) },
      {
        label: 'a 409 offset conflict',
        status: 409,
        send: async (b) => patch(await createUpload(b, 100), 5, randomData(5), { Origin: ORIGIN }),
      },
    ]

    it.each(answers)('lets a browser on another origin read $label', async ({ status, send }) => {
      const res = await send(base)
      expect(res.status).toBe(status)
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
      expect(headerList(res.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(EXPOSED.map((h) => h.toLowerCase())))
    })

    it('answers a preflight with the tus methods and request headers allowed', async () => {
      const requested = ['X-Request-ID', 'Upload-Concat', 'Upload-Checksum', 'Authorization', 'Upload-Offset', 'Tus-Resumable', 'Content-Type', 'Upload-Length', 'Upload-Metadata']
      const url = await createUpload(base, 100)
      const res = await fetch(url, {
        method: 'OPTIONS',
        headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': requested.join(',').toLowerCase() },
      })
      expect(res.status).toBe(204)
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
      expect(headerList(res.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(requested.map((h) => h.toLowerCase())))
      expect(headerList(res.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['post', 'patch', 'head', 'delete']))
    })
  })

  describe('interrupted and competing PATCHes', () => {
    it('keeps the bytes of a PATCH whose client disconnects mid-body, and a new PATCH resumes from there', async () => {
      // "The Server SHOULD always attempt to store as much of the received data as possible."
      const data = randomData(300 * KiB)
      const url = await createUpload(base, data.length)
      const serverSide = serverSideOf(server, idOf(url))
      const cut = openPatch(url, 0, data.length)
      cut.req.write(data.subarray(0, 100 * KiB))
      await arrived(serverSide, 100 * KiB)
      cut.req.destroy()
      expect(await cut.response).toBeUndefined()
      // Disk: the bytes are in the file already; S3: they become the .part object once the server sees the close.
      const kept = await waitFor(async () => {
        const offset = await offsetOf(url)
        return offset > 0 ? offset : undefined
      }, 10_000, 'the kept bytes')
      expect(kept).toBeLessThanOrEqual(100 * KiB)
      // A lock left behind by the dead request would make the resume wait and fail with 423.
      const statuses = await resume(url, data)
      expect(statuses.at(-1)).toBe(204)
      expect(statuses.every((s) => s === 204 || s === 409)).toBe(true)
      expect((await fileRecord(base, idOf(url))).file).toMatchObject({ status: 'uploaded', size: data.length })
      expect(await contentSha(base, idOf(url))).toBe(sha256(data))
    })

    it('gives the upload to a second PATCH while the first is stalled mid-body, and the bytes end up intact', async () => {
      // "The Server SHOULD always attempt to store as much of the received data as possible." The stalled request is asked
      // to stop with what it has, rather than holding the upload until its connection times out.
      const data = randomData(300 * KiB)
      const url = await createUpload(base, data.length)
      const serverSide = serverSideOf(server, idOf(url))
      const stalled = openPatch(url, 0, data.length)
      stalled.req.on('error', () => {})
      stalled.req.write(data.subarray(0, 100 * KiB))
      await arrived(serverSide, 100 * KiB)
      const offset = await offsetOf(url)
      const second = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': String(offset) }, data.subarray(offset))
      // 204 when the HEAD saw every byte the first one kept, 409 naming the new offset when it did not (S3 spools a body until it ends).
      expect([204, 409]).toContain(second.status)
      expect(Number(second.headers['upload-offset'])).toBeGreaterThan(0)
      const first = await stalled.response
      expect(first?.status).toBe(204)
      expect(Number(first?.headers['upload-offset'])).toBeLessThanOrEqual(100 * KiB)
      stalled.req.destroy()
      const statuses = await resume(url, data)
      expect(statuses.every((s) => s === 204)).toBe(true)
      expect((await fileRecord(base, idOf(url))).file).toMatchObject({ status: 'uploaded', size: data.length })
      expect(await contentSha(base, idOf(url))).toBe(sha256(data))
    })
  })
})

describe.each(backends())('tus 1.0.0 expiration on $name', (backend) => {
  let server: TestServer
  let base: string
  beforeAll(async () => {
    server = await startTestServer(backend, { ...UPLOAD_ONLY, UPLOAD_EXPIRY_SECONDS: '1' })
    base = server.url
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** An unfinished upload with bytes in it, sent with the creation so that no PATCH races the one-second expiry. */
  async function startUpload(): Promise<string> {
    const res = await post(base, { ...TUS, ...OCTET_STREAM, 'Upload-Length': '1000' }, randomData(200))
    expect(res.status).toBe(201)
    expect(res.headers.get('upload-offset')).toBe('200')
    return new URL(res.headers.get('location') ?? '', base).toString()
  }

  async function expired(url: string): Promise<void> {
    await waitFor(async () => ((await head(url)).status !== 200 ? true : undefined), 10_000, 'the upload to expire')
  }

  it('answers HEAD and PATCH on an expired upload with 410', async () => {
    // "If a Client does attempt to resume an upload which has since been removed by the Server, the Server SHOULD respond with the 404 Not Found or 410 Gone status. The latter one SHOULD be used if the Server is keeping track of expired uploads."
    const url = await startUpload()
    await expired(url)
    expect((await head(url)).status).toBe(410)
    expect((await patch(url, 200, randomData(10))).status).toBe(410)
  })

  it('still answers 410 after the sweep removed an expired upload, with nothing left in storage and the file failed', async () => {
    // "The latter one [410 Gone] SHOULD be used if the Server is keeping track of expired uploads."
    const url = await startUpload()
    const id = idOf(url)
    await expired(url)
    expect(await server.storage.leftovers(id)).not.toEqual([])
    expect(await server.sweep()).toBeGreaterThanOrEqual(1)
    expect((await head(url)).status).toBe(410)
    expect((await patch(url, 200, randomData(10))).status).toBe(410)
    expect(await server.storage.leftovers(id)).toEqual([])
    const { file } = await fileRecord(base, id)
    expect(file).toMatchObject({ status: 'failed', error: { code: 'upload_expired' } })
  })
})
