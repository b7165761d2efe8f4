/**
 * Hostile and malformed input against the running server, on every backend:
 * every answer is a 4xx whose message says what was wrong (tus: `ERR_CODE:
 * message` text; REST: { error: { code, message } } JSON), nothing is created
 * by a refused request, no error is logged, the server keeps serving and a
 * file stored before the attack is unharmed. node:http is used where fetch
 * cannot say what a hostile client says on the wire: repeated headers, a
 * chunked body that runs long, a body that never arrives.
 */
import { randomUUID } from 'node:crypto'
import http, { type IncomingMessage } from 'node:http'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../server/start.ts'
import { type Backend, backends, makeTestEnv } from './helpers/backends.ts'
import { contentSha, expectJsonError, uploadFile } from './helpers/files.ts'
import { b64, createUpload, idOf, metadataHeader, patch, randomData, sha256, TUS, waitFor, rawRequest, type RawResponse } from './helpers/tus.ts'

const MAX_UPLOAD_SIZE = 1024 * 1024
const OCTET_STREAM = { 'Content-Type': 'application/offset+octet-stream' } as const
const CSV = { filetype: 'text/csv' } as const
/** C0, DEL, C1 and the bidi/invisible formatting characters a filename must not carry into a header. */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/

type HeaderList = Record<string, string> | string[]


/** A tus error answer: the status, and `CODE: message` text whose message matches `says`. */
function expectTusError(res: RawResponse, status: number, code: string, says: RegExp): void {
  expect({ status: res.status, body: res.body }).toEqual({ status, body: expect.stringMatching(new RegExp(`^${code}: \\S.*\\n$`)) })
  expect(res.headers['content-type']).toMatch(/^text\/plain/)
  expect(res.body.slice(code.length + 2)).toMatch(says)
}

async function head(url: string): Promise<RawResponse> {
  return rawRequest(url, 'HEAD', { ...TUS })
}

async function offsetOf(url: string): Promise<number> {
  const res = await head(url)
  expect(res.status).toBe(200)
  return Number(res.headers['upload-offset'])
}

/** A unique .csv name, so that "nothing was created" can be checked in the listing. */
function uniqueName(what: string): string {
  return `${what}-${randomUUID()}.csv`
}

/** What /metrics says about locks held by requests right now. */
async function locksHeld(base: string): Promise<number> {
  const res = await fetch(`${base}/metrics`)
  expect(res.status).toBe(200)
  const line = /^filedock_upload_locks_held (\d+)$/m.exec(await res.text())
  expect(line).not.toBeNull()
  return Number(line?.[1])
}

async function listedNames(base: string): Promise<string[]> {
  const res = await fetch(`${base}/api/files?limit=200`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { files: Array<{ filename: string }> }).files.map((f) => f.filename)
}

type LoggedServer = { url: string; server: http.Server; errors: unknown[]; stop(): Promise<void> }

/**
 * startTestServer's server, with a logger that keeps what is logged at error
 * level: the suite asserts that no hostile request made the server log an
 * unhandled error (a 500 in disguise).
 */
async function startLoggedServer(backend: Backend, extra: Record<string, string>): Promise<LoggedServer> {
  const testEnv = await makeTestEnv(backend, extra)
  const errors: unknown[] = []
  const log = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line)) })
  const running = await startServer(testEnv.config, log)
  return {
    url: running.url,
    server: running.server,
    errors,
    async stop() {
      await running.close()
      await testEnv.cleanup()
    },
  }
}

/** The server's side of the next request to upload `id`, to see how much of a body it has read. */
function serverSideOf(server: LoggedServer, id: string): Promise<IncomingMessage> {
  return new Promise((resolve) => {
    const onRequest = (req: IncomingMessage) => {
      if (!req.url?.endsWith(id)) return
      server.server.off('request', onRequest)
      resolve(req)
    }
    server.server.on('request', onRequest)
  })
}

describe.each(backends())('hostile input on $name', (backend) => {
  let server: LoggedServer
  let base: string
  /** Stored before the attack; must come out of it byte for byte. */
  const keeper = { id: '', data: randomData(4000), offset: 0 }

  beforeAll(async () => {
    server = await startLoggedServer(backend, { WORKER_CONCURRENCY: '0', MAX_UPLOAD_SIZE: String(MAX_UPLOAD_SIZE) })
    base = server.url
    keeper.id = await uploadFile(base, keeper.data, { filename: 'keeper.csv', ...CSV })
    keeper.offset = await offsetOf(`${base}/files/${keeper.id}`)
    expect(keeper.offset).toBe(keeper.data.length)
  })
  afterAll(async () => {
    await server?.stop()
  })

  /**
   * POST /files with `headers` (an object, or a raw array sent as it is) under a fresh .csv name,
   * which goes into Upload-Metadata unless the headers bring their own; asserts the refusal and
   * that no file of that name is listed afterwards.
   */
  async function refusedCreation(headers: HeaderList | ((name: string) => HeaderList), status: number, code: string, says: RegExp): Promise<void> {
    const name = uniqueName('refused')
    const given = typeof headers === 'function' ? headers(name) : headers
    const meta = metadataHeader({ filename: name, ...CSV })
    const sent = Array.isArray(given)
      ? ['Tus-Resumable', '1.0.0', ...(given.includes('Upload-Metadata') ? [] : ['Upload-Metadata', meta]), ...given]
      : { ...TUS, 'Upload-Metadata': meta, ...given }
    const res = await rawRequest(`${base}/files`, 'POST', sent)
    expectTusError(res, status, code, says)
    expect(res.headers.location).toBeUndefined()
    expect(await listedNames(base)).not.toContain(name)
  }

  describe('Upload-Length at creation', () => {
    it.each([
      { label: 'a negative', value: '-1' },
      { label: 'a huge (20 digits)', value: '99999999999999999999' },
      { label: 'a non-numeric', value: 'five' },
      { label: 'an exponent (1e3)', value: '1e3' },
      { label: 'a hexadecimal (0x10)', value: '0x10' },
      { label: 'a fractional', value: '5.0' },
      { label: 'a signed', value: '+5' },
      { label: 'an empty', value: '' },
    ])('refuses $label Upload-Length with 400 and creates nothing', async ({ value }) => {
      // "The Upload-Length request and response header indicates the size of the entire upload in bytes. The value MUST be a non-negative integer."
      await refusedCreation({ 'Upload-Length': value }, 400, 'ERR_INVALID_LENGTH', /Upload-Length must be a non-negative integer/)
    })

    it.each([
      { label: 'two different', values: ['5', '6'] },
      { label: 'two equal', values: ['5', '5'] },
    ])('refuses $label Upload-Length headers with 400 and creates nothing', async ({ values }) => {
      await refusedCreation(values.flatMap((v) => ['Upload-Length', v]), 400, 'ERR_INVALID_LENGTH', /Upload-Length must be a non-negative integer/)
    })

    it('refuses Upload-Length together with Upload-Defer-Length with 400 and creates nothing', async () => {
      // "The Client MUST send exactly one of the Upload-Length or Upload-Defer-Length headers."
      await refusedCreation({ 'Upload-Length': '5', 'Upload-Defer-Length': '1' }, 400, 'ERR_INVALID_LENGTH', /exactly one of Upload-Length .* or Upload-Defer-Length/)
    })

    it('refuses an Upload-Defer-Length other than 1 with 400', async () => {
      // "Its value MUST be 1."
      await refusedCreation({ 'Upload-Defer-Length': '2' }, 400, 'ERR_INVALID_LENGTH', /Upload-Defer-Length must be 1/)
    })

    it('refuses a well-formed Upload-Length above Tus-Max-Size with 413', async () => {
      await refusedCreation({ 'Upload-Length': String(MAX_UPLOAD_SIZE + 1) }, 413, 'ERR_MAX_SIZE_EXCEEDED', /larger than the [\d.,]+ ([KMG]iB|bytes) this server accepts/)
    })
  })

  describe('Upload-Metadata', () => {
    const length = { 'Upload-Length': '5' }

    it.each([
      { label: 'a value that is not base64', metadata: (name: string) => `filename !!!!${b64(name)}` },
      { label: 'a value whose base64 padding is wrong', metadata: (name: string) => `filename ${b64(name)}=,filetype ${b64('text/csv')}` },
      { label: 'a duplicated key', metadata: (name: string) => `filename ${b64(name)},filename ${b64(`2-${name}`)},filetype ${b64('text/csv')}` },
      // Node sends a header string as latin1: these are the UTF-8 bytes of the key, as a client on the wire sends them.
      { label: 'a non-ASCII key', metadata: (name: string) => `${Buffer.from('имя').toString('latin1')} ${b64('x')},filename ${b64(name)}` },
      { label: 'a key with a space', metadata: (name: string) => `file name ${b64(name)},filetype ${b64('text/csv')}` },
      // A comma between a key and its value leaves an entry with an empty key (a comma inside a key cannot be told from a separator).
      { label: 'a key followed by a comma', metadata: (name: string) => `filename, ${b64(name)}` },
      { label: 'an empty entry', metadata: (name: string) => `filename ${b64(name)},,filetype ${b64('text/csv')}` },
      { label: 'an empty header', metadata: () => '' },
    ])('refuses $label with 400 and creates nothing', async ({ metadata }) => {
      // "The Upload-Metadata request and response header MUST consist of one or more comma-separated key-value pairs.
      // The key and value MUST be separated by a space. The key MUST NOT contain spaces and commas and MUST NOT be empty.
      // The key SHOULD be ASCII encoded and the value MUST be Base64 encoded. All keys MUST be unique."
      await refusedCreation((name) => ({ ...length, 'Upload-Metadata': metadata(name) }), 400, 'ERR_INVALID_METADATA', /comma-separated "key base64value" pairs with unique ASCII keys/)
    })

    it('refuses two Upload-Metadata headers with 400', async () => {
      await refusedCreation((name) => {
        const one = metadataHeader({ filename: name, ...CSV })
        return ['Upload-Length', '5', 'Upload-Metadata', one, 'Upload-Metadata', one]
      }, 400, 'ERR_INVALID_METADATA', /key base64value/)
    })

    it('refuses Upload-Metadata over 4096 bytes with 400 naming the limit', async () => {
      const metadata = (name: string) => metadataHeader({ filename: name, ...CSV, note: 'x'.repeat(3100) })
      expect(Buffer.byteLength(metadata(uniqueName('big')))).toBeGreaterThan(4096)
      await refusedCreation((name) => ({ ...length, 'Upload-Metadata': metadata(name) }), 400, 'ERR_METADATA_TOO_LARGE', /larger than 4096 bytes/)
    })

    it('refuses more than 32 metadata entries with 400 naming the limit', async () => {
      const entries = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v']))
      await refusedCreation((name) => ({ ...length, 'Upload-Metadata': metadataHeader({ filename: name, ...CSV, ...entries }) }), 400, 'ERR_METADATA_TOO_LARGE', /at most 32/)
    })

    it('refuses a __proto__ key with 400 and stays healthy', async () => {
      await refusedCreation((name) => ({ ...length, 'Upload-Metadata': `__proto__ ${b64('{"polluted":1}')},filename ${b64(name)}` }), 400, 'ERR_INVALID_METADATA', /unique ASCII keys/)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    it('accepts a key without a value, as tus allows, echoes it on HEAD and names the file "upload"', async () => {
      // "The key and value MUST be separated by a space" ... tus-node-server and tusd also accept a lone key, meaning "no value".
      const res = await rawRequest(`${base}/files`, 'POST', { ...TUS, ...length, 'Upload-Metadata': `filename,filetype ${b64('text/csv')}` })
      expect(res.status).toBe(201)
      const url = new URL(res.headers.location ?? '', base).toString()
      expect((await head(url)).headers['upload-metadata']).toBe(`filename,filetype ${b64('text/csv')}`)
      const file = await fetch(`${base}/api/files/${idOf(url)}`)
      expect(await file.json()).toMatchObject({ filename: 'upload', contentType: 'text/csv', status: 'uploading' })
    })

    it('refuses a lone filename key with no type with 415 saying the file has no extension and no type', async () => {
      const res = await rawRequest(`${base}/files`, 'POST', { ...TUS, ...length, 'Upload-Metadata': 'filename' })
      expectTusError(res, 415, 'ERR_TYPE_NOT_ALLOWED', /no extension and no declared type \(allowed: .*csv/)
    })
  })

  describe('hostile filenames', () => {
    const original = '../..\\etc/..\\r\u00e9sum\u00e9 \u0007\u001b[2J\u0085\u200b\u202Evsc..2024\r\n.csv'

    it('serves a path-traversal, control-character name as a harmless attachment name, and keeps the original for display', async () => {
      const data = randomData(64)
      const id = await uploadFile(base, data, { filename: original, ...CSV })
      const res = await fetch(`${base}/api/files/${id}/content`)
      expect(res.status).toBe(200)
      expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(data))
      const disposition = res.headers.get('content-disposition') ?? ''
      expect(disposition).toMatch(/^attachment; /)
      expect(disposition).not.toMatch(/[/\\]/)
      expect(disposition).not.toContain('..')
      expect(disposition).not.toMatch(HIDDEN)
      // RFC 6266/5987: the UTF-8 name, percent-encoded, for every browser since 2011.
      const encoded = /filename\*=UTF-8''([^;\s]+)/.exec(disposition)?.[1]
      expect(encoded).toBeDefined()
      const named = decodeURIComponent(encoded ?? '')
      expect(named).toBe('r\u00e9sum\u00e9 [2Jvsc.2024.csv')
      expect(named).not.toMatch(HIDDEN)
      // The original, as the client sent it, is what the file record shows.
      const record = await fetch(`${base}/api/files/${id}`)
      expect(((await record.json()) as { filename: string }).filename).toBe(original)
    })

    it('names a file whose name is nothing but dots and separators "download"', async () => {
      const id = await uploadFile(base, randomData(8), { filename: '../../..', ...CSV })
      const res = await fetch(`${base}/api/files/${id}/content`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-disposition')).toBe('attachment; filename=download')
    })
  })

  describe('Upload-Offset', () => {
    it.each([
      { label: 'a negative', headers: ['Upload-Offset', '-1'] },
      { label: 'a non-numeric', headers: ['Upload-Offset', 'zero'] },
      { label: 'a huge (20 digits)', headers: ['Upload-Offset', '99999999999999999999'] },
      { label: 'an exponent (0e0)', headers: ['Upload-Offset', '0e0'] },
      { label: 'a duplicated', headers: ['Upload-Offset', '0', 'Upload-Offset', '0'] },
      { label: 'a missing', headers: [] },
    ])('refuses a PATCH with $label Upload-Offset with 400 and stores nothing', async ({ headers }) => {
      // "The Upload-Offset request and response header indicates a byte offset within a resource. The value MUST be a non-negative integer."
      const url = await createUpload(base, 100, { filename: uniqueName('offset'), ...CSV })
      const res = await rawRequest(url, 'PATCH', ['Tus-Resumable', '1.0.0', 'Content-Type', OCTET_STREAM['Content-Type'], ...headers], randomData(10))
      expectTusError(res, 400, 'ERR_INVALID_OFFSET', /Upload-Offset must be a non-negative integer/)
      expect(await offsetOf(url)).toBe(0)
    })

    it('answers a mismatched Upload-Offset with 409 and the current offset, and changes nothing', async () => {
      // "If the offsets do not match, the Server MUST respond with the 409 Conflict status without modifying the upload resource."
      const url = await createUpload(base, 100, { filename: uniqueName('mismatch'), ...CSV })
      expect((await patch(url, 0, randomData(10))).status).toBe(204)
      const res = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '50' }, randomData(10))
      expectTusError(res, 409, 'ERR_OFFSET_MISMATCH', /does not match the current offset/)
      expect(res.headers['upload-offset']).toBe('10')
      expect(await offsetOf(url)).toBe(10)
    })
  })

  describe('PATCH bodies', () => {
    it('refuses a PATCH with Content-Type: text/plain with 415 and stores nothing', async () => {
      // "All PATCH requests MUST use Content-Type: application/offset+octet-stream, otherwise the server SHOULD return a 415 Unsupported Media Type status."
      const url = await createUpload(base, 100, { filename: uniqueName('type'), ...CSV })
      const res = await rawRequest(url, 'PATCH', { ...TUS, 'Content-Type': 'text/plain', 'Upload-Offset': '0' }, randomData(10))
      expectTusError(res, 415, 'ERR_CONTENT_TYPE', /Content-Type: application\/offset\+octet-stream/)
      expect(await offsetOf(url)).toBe(0)
    })

    it('refuses a body whose Content-Length goes past Upload-Length with 413 and stores none of it', async () => {
      const url = await createUpload(base, 100, { filename: uniqueName('long'), ...CSV })
      expect((await patch(url, 0, randomData(60))).status).toBe(204)
      const res = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '60', 'Content-Length': '500' }, randomData(500))
      expectTusError(res, 413, 'ERR_BODY_EXCEEDS_LENGTH', /past the declared Upload-Length/)
      expect(await offsetOf(url)).toBe(60)
    })

    it('refuses a chunked body that runs past Upload-Length with 413, never storing past the length', async () => {
      const data = randomData(100)
      const url = await createUpload(base, data.length, { filename: uniqueName('chunked'), ...CSV })
      const res = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '0' }, [data, randomData(400), randomData(400)])
      expectTusError(res, 413, 'ERR_BODY_EXCEEDS_LENGTH', /past the declared Upload-Length/)
      const after = await head(url)
      expect(after.headers['upload-length']).toBe('100')
      const kept = Number(after.headers['upload-offset'])
      expect(kept).toBeLessThanOrEqual(100)
      // What was kept is the start of the real data, never the bytes beyond the length: the rest completes it exactly.
      if (kept < data.length) expect((await patch(url, kept, data.subarray(kept))).status).toBe(204)
      expect(await contentSha(base, idOf(url))).toBe(sha256(data))
    })

    /** A PATCH declaring `data.length` bytes that sends the first 10; resolves once they are on their way. */
    async function truncatedPatch(url: string, data: Uint8Array): Promise<http.ClientRequest> {
      const req = http.request(url, { method: 'PATCH', agent: false, headers: { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '0', 'Content-Length': String(data.length) } })
      req.on('error', () => {})
      await new Promise<void>((resolve) => req.write(data.subarray(0, 10), () => resolve()))
      return req
    }

    it('keeps the 10 bytes of a 1000-byte body whose client vanished mid-stream, and a resume completes it', async () => {
      // "The Server SHOULD always attempt to store as much of the received data as possible."
      const data = randomData(1000)
      const url = await createUpload(base, data.length, { filename: uniqueName('truncated'), ...CSV })
      const serverSide = serverSideOf(server, idOf(url))
      const req = await truncatedPatch(url, data)
      const sent = req.socket?.bytesWritten ?? Number.POSITIVE_INFINITY
      const incoming = await serverSide
      // Cut once the server has read all that was sent and streams the body to the store (piped, nothing held back).
      const streaming = () => incoming.socket.bytesRead >= sent && incoming.readableFlowing === true && incoming.readableLength === 0
      await waitFor(async () => (streaming() ? true : undefined), 10_000, 'the body streaming')
      req.destroy()
      // Disk: the bytes are in the file already; S3: they become the .part object once the server sees the close.
      const kept = await waitFor(async () => {
        const offset = await offsetOf(url)
        return offset > 0 ? offset : undefined
      }, 10_000, 'the bytes that arrived')
      expect(kept).toBe(10)
      await waitFor(async () => ((await locksHeld(base)) === 0 ? true : undefined), 5_000, 'the lock to be let go')
      const res = await patch(url, kept, data.subarray(kept))
      expect(res.status).toBe(204)
      expect(res.headers.get('upload-offset')).toBe('1000')
      expect(await contentSha(base, idOf(url))).toBe(sha256(data))
    })

    /**
     * A client gone before the PATCH reaches its body (while the owner is
     * checked, the lock taken, the upload loaded): its 'close' has already
     * fired, and the PATCH must still end and let go of the upload rather than
     * hold its lock (and on disk an open file) until someone asks.
     */
    it('lets go of the upload when its client vanishes before the body is read', async () => {
      const data = randomData(1000)
      const url = await createUpload(base, data.length, { filename: uniqueName('cut-early'), ...CSV })
      // Cut at once: the server sees the close while it still checks who owns the upload.
      const req = await truncatedPatch(url, data)
      req.destroy()
      try {
        // Time for the request to take the lock it should not keep: it holds it within milliseconds.
        await new Promise((resolve) => setTimeout(resolve, 1000))
        await waitFor(async () => ((await locksHeld(base)) === 0 ? true : undefined), 2_000, 'the lock to be let go')
      } finally {
        // A resume asks any holder for the lock, so the suite goes on either way.
        const offset = await offsetOf(url)
        expect((await patch(url, offset, data.subarray(offset))).status).toBe(204)
        expect(await contentSha(base, idOf(url))).toBe(sha256(data))
      }
    })

    it('refuses more bytes for a finished upload with 413, and a stale offset with 409, leaving the file as it was', async () => {
      const data = randomData(50)
      const id = await uploadFile(base, data, { filename: uniqueName('finished'), ...CSV })
      const url = `${base}/files/${id}`
      const more = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '50' }, randomData(10))
      expectTusError(more, 413, 'ERR_BODY_EXCEEDS_LENGTH', /past the declared Upload-Length/)
      const stale = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '0' }, randomData(10))
      expectTusError(stale, 409, 'ERR_OFFSET_MISMATCH', /current offset/)
      expect(stale.headers['upload-offset']).toBe('50')
      expect(await offsetOf(url)).toBe(50)
      expect(await contentSha(base, id)).toBe(sha256(data))
    })

    it('refuses a PATCH that changes a known Upload-Length with 400', async () => {
      // "Once [Upload-Length] is set the Client MUST NOT change it."
      const url = await createUpload(base, 100, { filename: uniqueName('relength'), ...CSV })
      const res = await rawRequest(url, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '0', 'Upload-Length': '10' }, randomData(10))
      expectTusError(res, 400, 'ERR_LENGTH_ALREADY_SET', /cannot be changed/)
      expect((await head(url)).headers['upload-length']).toBe('100')
    })

    it('answers a PATCH on a path-traversal id with 404', async () => {
      const res = await rawRequest(`${base}/files/..%2F..%2Fetc%2Fpasswd`, 'PATCH', { ...TUS, ...OCTET_STREAM, 'Upload-Offset': '0' }, randomData(10))
      expectTusError(res, 404, 'ERR_UPLOAD_NOT_FOUND', /no upload with this id/)
    })
  })

  describe('REST', () => {
    it('answers a path-traversal file id with a 404 JSON error', async () => {
      await expectJsonError(await fetch(`${base}/api/files/..%2F..%2Fetc%2Fpasswd/content`), 404, 'ERR_FILE_NOT_FOUND')
    })

    it.each([
      { label: 'a non-numeric limit', query: 'limit=ten' },
      { label: 'a negative limit', query: 'limit=-1' },
      { label: 'a forged cursor', query: `cursor=${Buffer.from('2024-01-01|../../etc').toString('base64url')}` },
      { label: 'a repeated conversationId', query: 'conversationId=a&conversationId=b' },
    ])('refuses $label with a 400 JSON error', async ({ query }) => {
      await expectJsonError(await fetch(`${base}/api/files?${query}`), 400, 'ERR_BAD_REQUEST')
    })

    it('answers a range past the end of a file with 416 and the size', async () => {
      const res = await fetch(`${base}/api/files/${keeper.id}/content`, { headers: { Range: `bytes=${keeper.data.length + 10}-` } })
      expect(res.headers.get('content-range')).toBe(`bytes */${keeper.data.length}`)
      await expectJsonError(res, 416, 'ERR_INVALID_RANGE')
    })
  })

  describe('afterwards', () => {
    it('still answers /healthz', async () => {
      const res = await fetch(`${base}/healthz`)
      expect(res.status).toBe(200)
    })

    it('still holds the file uploaded before the attack, byte for byte', async () => {
      expect(await offsetOf(`${base}/files/${keeper.id}`)).toBe(keeper.offset)
      expect(await contentSha(base, keeper.id)).toBe(sha256(keeper.data))
    })

    it('logged no error for any of it', () => {
      expect(server.errors).toEqual([])
    })
  })
})

/**
 * A NUL in a metadata value: Postgres stores no U+0000 in text or jsonb, so
 * the creation is refused with a 400 naming the metadata, before anything is
 * stored, and nothing is logged as an error.
 */
describe.each(backends())('metadata with NUL characters on $name', (backend) => {
  let server: LoggedServer
  beforeAll(async () => {
    server = await startLoggedServer(backend, { WORKER_CONCURRENCY: '0', MAX_UPLOAD_SIZE: String(MAX_UPLOAD_SIZE) })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.each([
    { label: 'the filename', meta: { filename: '../x\u0000y.csv', ...CSV } },
    { label: 'another value', meta: { filename: 'nul.csv', ...CSV, note: 'a\u0000b' } },
  ])('answers a NUL in $label with a 4xx naming the metadata, or accepts it, never a 500', async ({ meta }) => {
    const res = await rawRequest(`${server.url}/files`, 'POST', { ...TUS, 'Upload-Length': '5', 'Upload-Metadata': metadataHeader(meta) })
    if (res.status !== 201) expectTusError(res, 400, 'ERR_INVALID_METADATA', /Upload-Metadata/)
    expect(server.errors).toEqual([])
  })
})
