/**
 * What the bundled page relies on, against real servers on every backend:
 * GET /api/config (the rules, in the words the server refuses with), the
 * live stream of the caller's file changes (and no one else's), and the
 * page itself (cache headers, CSP, a missing build, path traversal).
 */
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { SignJWT } from 'jose'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWeb, staleReason } from '../scripts/build-web.ts'
import { buildApp } from '../server/app.ts'
import { createApiKey, createApiKeyVerifier } from '../server/auth/api-keys.ts'
import { createAuthenticate } from '../server/auth/authenticate.ts'
import { clientConfigOf } from '../server/http/config.router.ts'
import { QueueLocker } from '../server/locks/queue-locker.ts'
import { createMetrics } from '../server/metrics.ts'
import { DEFAULT_ALLOWED_TYPES, parseTypeRules } from '../server/uploads/type-rules.ts'
import { createUploadHooks } from '../server/uploads/upload-hooks.ts'
import { type ClientConfig, sizeRefusal, typeRefusal } from '../server/uploads/upload-rules.ts'
import { backends } from './helpers/backends.ts'
import { expectJsonError } from './helpers/files.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { idOf, metadataHeader, rawRequest, TUS } from './helpers/tus.ts'

const MiB = 1024 * 1024
const SECRET = 'page-api-test-secret-of-forty-characters!'
const CSV = Buffer.from('name,age\nAda,36\nGrace,45\n')
type Who = Record<string, string>
type FileEvent = { id: string; status: string }

/** Creates an upload as `who` and sends it whole in one PATCH; returns its id. */
async function upload(base: string, who: Who, filename: string, data = CSV): Promise<string> {
  const created = await fetch(`${base}/files`, { method: 'POST', headers: { ...TUS, ...who, 'Upload-Length': String(data.length), 'Upload-Metadata': metadataHeader({ filename, filetype: 'text/csv' }) } })
  expect(created.status).toBe(201)
  const url = new URL(created.headers.get('location') ?? '', base).toString()
  const sent = await fetch(url, { method: 'PATCH', headers: { ...TUS, ...who, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, body: data as unknown as BodyInit })
  expect(sent.status).toBe(204)
  return idOf(url)
}

/** GET /api/files/events as `who`, read one server-sent event at a time, each read bounded by a timeout. */
async function openEvents(base: string, who: Who) {
  const abort = new AbortController()
  const res = await fetch(`${base}/api/files/events`, { headers: { Accept: 'text/event-stream', ...who }, signal: abort.signal })
  expect(res.status).toBe(200)
  const reader = (res.body as ReadableStream<BufferSource>).pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  let pending: Promise<ReadableStreamReadResult<string>> | undefined
  /** The next event's fields, or undefined when none came within `timeoutMs`. */
  async function next(timeoutMs: number): Promise<Record<string, string> | undefined> {
    const deadline = Date.now() + timeoutMs
    while (!buffer.includes('\n\n')) {
      pending ??= reader.read()
      let timer: NodeJS.Timeout | undefined
      const got = await Promise.race([pending, new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), 'timeout')))])
      clearTimeout(timer)
      if (got === 'timeout') return undefined
      pending = undefined
      if (got.done) throw new Error('the event stream ended')
      buffer += got.value
    }
    const end = buffer.indexOf('\n\n')
    const block = buffer.slice(0, end)
    buffer = buffer.slice(end + 2)
    return Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]))
  }
  /** The `file` events read until one for `id` is `status` (all of them, that one last); fails after `timeoutMs`. */
  async function until(id: string, status: string, timeoutMs = 60_000): Promise<FileEvent[]> {
    const seen: FileEvent[] = []
    for (const deadline = Date.now() + timeoutMs; ; ) {
      const event = await next(deadline - Date.now())
      if (!event) throw new Error(`no ${status} event for ${id} in ${timeoutMs} ms; saw ${JSON.stringify(seen)}`)
      if (event.event !== 'file') continue
      const file = JSON.parse(event.data ?? '') as FileEvent
      seen.push({ id: file.id, status: file.status })
      if (file.id === id && file.status === status) return seen
    }
  }
  return { res, next, until, close: () => abort.abort() }
}

/** The app of `running` built again around another page directory (startServer always serves dist/web). */
async function serveWithWebDir(running: TestServer, webDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const { db, storage, events, testEnv } = running
  const { config } = testEnv
  const [log, metrics, typeRules] = [pino({ level: 'silent' }), createMetrics({ activeLocks: () => 0, defaultMetrics: false }), parseTypeRules(config.limits.allowedTypes)]
  const authenticate = createAuthenticate({ mode: config.auth.mode, verifyApiKey: createApiKeyVerifier(db) })
  const hooks = createUploadHooks({ db, storage, log, metrics, limits: { typeRules } })
  const app = buildApp({ db, storage, events, log, metrics, config, webDir, hooks, authenticate, locker: new QueueLocker(), clientConfig: clientConfigOf(config, typeRules) })
  const server = http.createServer(app).listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

beforeAll(async () => {
  if (await staleReason()) await buildWeb()
})

describe.each(backends())('the page and its API on $name', (backend) => {
  const chunkSize = backend.s3 ? 6 * MiB : 8 * MiB
  let local: TestServer
  let required: TestServer
  let alice: Who
  let bob: Who
  beforeAll(async () => {
    const common = { UPLOAD_RATE_LIMIT: '0', S3_PART_SIZE: String(6 * MiB) }
    ;[local, required] = await Promise.all([
      startTestServer(backend, { ...common, MAX_UPLOAD_SIZE: '1000000', ALLOWED_TYPES: 'csv,txt,image/*', UPLOAD_EXPIRY_SECONDS: '3600' }),
      startTestServer(backend, { ...common, AUTH: 'required', JWT_SECRET: SECRET, USER_QUOTA_BYTES: '50000000' }),
    ])
    alice = { 'X-API-Key': (await createApiKey(required.db, { userId: 'alice' })).key }
    bob = { Authorization: `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setExpirationTime('10m').sign(new TextEncoder().encode(SECRET))}` }
  })
  afterAll(async () => {
    await Promise.all([local?.stop(), required?.stop()])
  })

  const config = async (base: string): Promise<ClientConfig> => {
    const res = await fetch(`${base}/api/config`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    return (await res.json()) as ClientConfig
  }

  it('hands out the rules of a local server: no credentials, its size limit, types and expiry', async () => {
    const rules = parseTypeRules('csv,txt,image/*')
    expect(rules).toMatchObject({ label: 'csv, txt, image/*' })
    expect(rules.any === false && rules.extensions).toEqual(expect.arrayContaining(['csv', 'txt', 'png']))
    expect(await config(local.url)).toEqual({
      tus: { endpoint: '/files', chunkSize },
      maxUploadSize: 1_000_000,
      allowedTypes: rules,
      uploadExpirySeconds: 3600,
      quotaBytes: null,
      formPost: true,
      presignedUploads: backend.s3,
      auth: { required: false, schemes: [] },
    })
  })

  it('hands out the rules of a server that requires credentials, to a caller without any', async () => {
    expect(await config(required.url)).toEqual({
      tus: { endpoint: '/files', chunkSize },
      maxUploadSize: 10 * 1024 * MiB,
      allowedTypes: parseTypeRules(DEFAULT_ALLOWED_TYPES),
      uploadExpirySeconds: 86_400,
      quotaBytes: 50_000_000,
      formPost: true,
      presignedUploads: backend.s3,
      auth: { required: true, schemes: ['bearer', 'apiKey'] },
    })
  })

  it('refuses an upload in the very words the page computes from /api/config', async () => {
    const { allowedTypes, maxUploadSize } = await config(local.url)
    const create = async (length: number, meta: Record<string, string>) => {
      const res = await fetch(`${local.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(length), 'Upload-Metadata': metadataHeader(meta) } })
      return { status: res.status, text: await res.text() }
    }
    const refusals: [number, Record<string, string>, string, string | undefined][] = [
      [10, { filename: 'setup.exe', filetype: 'application/x-msdownload' }, 'ERR_TYPE_NOT_ALLOWED', typeRefusal(allowedTypes, 'setup.exe', 'application/x-msdownload')],
      [10, { filename: 'blob', filetype: 'application/zip' }, 'ERR_TYPE_NOT_ALLOWED', typeRefusal(allowedTypes, 'blob', 'application/zip')],
      [5_000_000, { filename: 'big.csv' }, 'ERR_MAX_SIZE_EXCEEDED', sizeRefusal(maxUploadSize, 5_000_000)],
    ]
    expect(refusals.map((r) => r[3])).toEqual([
      'files of type .exe are not accepted here (allowed: csv, txt, image/*)',
      'the file has no extension and its declared type application/zip is not accepted (allowed: csv, txt, image/*)',
      'the file is 4.8 MiB, larger than the 977 KiB this server accepts',
    ])
    for (const [length, meta, code, words] of refusals) {
      const got = await create(length, meta)
      expect(got.status).toBe(code === 'ERR_MAX_SIZE_EXCEEDED' ? 413 : 415)
      expect(got.text).toBe(`${code}: ${words}\n`)
    }
    // And what the rules let through, the server lets through: image/* for a name without extension.
    expect(typeRefusal(allowedTypes, 'photo', 'image/heic')).toBeUndefined()
    expect((await create(10, { filename: 'photo', filetype: 'image/heic' })).status).toBe(201)
  })

  it('streams every change of a file, from upload to ready, after a retry: line', async () => {
    const stream = await openEvents(local.url, {})
    try {
      expect(stream.res.headers.get('content-type')).toMatch(/^text\/event-stream/)
      expect(await stream.next(5000)).toEqual({ retry: '3000' })
      const id = await upload(local.url, {}, 'people.csv')
      const seen = (await stream.until(id, 'ready')).filter((e) => e.id === id).map((e) => e.status)
      expect(seen.at(-1)).toBe('ready')
      expect(seen.slice(0, -1).some((s) => s === 'uploaded' || s === 'processing')).toBe(true)
      expect(seen.every((s) => ['uploaded', 'processing', 'ready'].includes(s))).toBe(true)
    } finally {
      stream.close()
    }
  })

  it("never shows one user another user's files, while showing each their own", async () => {
    const [aliceStream, bobStream] = await Promise.all([openEvents(required.url, alice), openEvents(required.url, bob)])
    try {
      const aliceFile = await upload(required.url, alice, 'alice.csv')
      const settled = await fetch(`${required.url}/api/files/${aliceFile}?wait=30`, { headers: alice })
      expect(((await settled.json()) as FileEvent).status).toBe('ready')
      expect((await aliceStream.until(aliceFile, 'ready')).length).toBeGreaterThan(0)
      // Bob's file comes after all of Alice's changes: by its ready event, anything of Alice's would have arrived.
      const bobFile = await upload(required.url, bob, 'bob.csv')
      const bobSaw = await bobStream.until(bobFile, 'ready')
      expect(bobSaw.map((e) => e.id)).not.toContain(aliceFile)
      expect(new Set(bobSaw.map((e) => e.id))).toEqual(new Set([bobFile]))
    } finally {
      aliceStream.close()
      bobStream.close()
    }
  })

  it('refuses the event stream without credentials or with a bad key, as JSON', async () => {
    await expectJsonError(await fetch(`${required.url}/api/files/events`), 401, 'ERR_UNAUTHENTICATED')
    await expectJsonError(await fetch(`${required.url}/api/files/events`, { headers: { 'X-API-Key': 'fdk_000000000000_nope' } }), 401, 'ERR_UNAUTHENTICATED')
  })

  it('serves the page with its CSP and no-cache, and its hashed assets as immutable', async () => {
    const page = await fetch(`${local.url}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(page.headers.get('cache-control')).toBe('no-cache')
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await page.text()
    const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    const asset = await fetch(`${local.url}${script}`)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(asset.headers.get('content-type')).toMatch(/^(text|application)\/javascript/)
    const icon = await fetch(`${local.url}/favicon.svg`)
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/)
  })

  it('says how to build the page when it is not built, and the API still answers', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'filedock-noweb-'))
    const app = await serveWithWebDir(local, empty)
    try {
      const page = await fetch(`${app.url}/`)
      expect(page.status).toBe(503)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      expect(await page.text()).toContain('npm run build')
      expect((await fetch(`${app.url}/api/config`)).status).toBe(200)
    } finally {
      await app.close()
      await rm(empty, { recursive: true, force: true })
    }
  })

  it('does not serve files from outside the page directory, nor its build record', async () => {
    const pkg = await readFile(path.resolve(import.meta.dirname, '..', 'package.json'), 'utf8')
    for (const target of ['/..%2f..%2fpackage.json', '/assets/..%2f..%2f..%2fpackage.json', '/../../package.json', '/assets/%2e%2e/%2e%2e/%2e%2e/package.json', '/.inputs.json']) {
      const res = await rawRequest(`${local.url}${target}`, 'GET', {})
      expect(res.status, target).toBeGreaterThanOrEqual(400)
      expect(res.status, target).toBeLessThan(500)
      expect(res.body, target).not.toContain('"dependencies"')
      expect(res.body.includes(pkg.slice(0, 200)), target).toBe(false)
    }
  })

  it('answers a POST to /api/config as a route it does not have, not a failure', async () => {
    const res = await fetch(`${local.url}/api/config`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
    expect([404, 405]).toContain(res.status)
  })
})
