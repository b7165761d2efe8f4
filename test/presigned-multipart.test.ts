/**
 * Presigned S3 multipart uploads (POST /api/files/multipart, a presigned PUT per
 * part, POST .../complete) against the running server and a real store: parts
 * of 5 + 5 + 2 MiB join into the declared bytes, leaving only the object;
 * a client that reloads lists what is stored and PUTs the rest; complete checks
 * the store, not the client (the bytes add up, every part but the last >= 5 MiB,
 * the ETags named are the stored ones), is harmless twice, and answers 410 once
 * the sweep aborted an abandoned upload; DELETE aborts every part and the row.
 * The worker gives a multipart CSV the same row, job and description as tus.
 * Creation obeys the tus rules (size, type, quota, rate limit), malformed input
 * is 400 without leaving a row, and every route acts on the caller's own
 * multipart uploads only. (On local disk: 501, in presigned.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../server/auth/api-keys.ts'
import { backends, UPLOAD_ONLY } from './helpers/backends.ts'
import { contentSha, errorOf, expectJsonError, fileJson, uploadFile } from './helpers/files.ts'
import { settled } from './helpers/pipeline.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { randomData, sha256 } from './helpers/tus.ts'

type FileJson = { id: string; filename: string; contentType: string; size: number; status: string; error: { code: string } | null; uploadedAt: string | null; expiresAt: string | null; uploadMetadata: Record<string, string> }
type Upload = { fileId: string; uploadId: string; partSize: number; expiresAt: string; file: FileJson }
/** What names an upload on the routes; uploadId undefined sends none. */
type Ref = { fileId: string; uploadId?: string }
type Who = Record<string, string>

const MiB = 1024 * 1024
const JSON_TYPE = { 'Content-Type': 'application/json' }
const PEOPLE = 'name,age,joined,score\nAda,36,2024-01-05,9.5\nGrace,45,2023-11-30,8.25\nLinus,28,2025-02-14,7\n'
const routeOf = (ref: Ref, tail = '') => `/api/files/multipart/${ref.fileId}${tail}${ref.uploadId === undefined ? '' : `?uploadId=${encodeURIComponent(ref.uploadId)}`}`

const call = (base: string, method: string, path: string, who: Who = {}, body?: unknown) =>
  fetch(`${base}${path}`, { method, headers: { ...JSON_TYPE, ...who }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
const begin = (base: string, body: unknown, who: Who = {}) => call(base, 'POST', '/api/files/multipart', who, body)
const sign = (base: string, ref: Ref, part: number | string, who: Who = {}) => call(base, 'GET', routeOf(ref, `/parts/${part}`), who)
const listParts = (base: string, ref: Ref, who: Who = {}) => call(base, 'GET', routeOf(ref, '/parts'), who)
const complete = (base: string, fileId: string, body: unknown, who: Who = {}) => call(base, 'POST', routeOf({ fileId }, '/complete'), who, body)
const abort = (base: string, fileId: string, who: Who = {}) => call(base, 'DELETE', routeOf({ fileId }), who)

async function begun(base: string, body: unknown, who: Who = {}): Promise<Upload> {
  const res = await begin(base, body, who)
  expect(res.status).toBe(201)
  return (await res.json()) as Upload
}

/** Signs part `n`, PUTs `bytes` to the URL as a browser would, and answers the ETag the store gave. */
async function putPart(base: string, up: Upload, n: number, bytes: Uint8Array, who: Who = {}): Promise<string> {
  const signed = await sign(base, up, n, who)
  expect(signed.status).toBe(200)
  const { url, method } = (await signed.json()) as { url: string; method: string }
  const res = await fetch(url, { method, body: bytes as BodyInit })
  expect([res.status, await res.text()]).toEqual([200, ''])
  return res.headers.get('etag') as string
}

/** PUTs `data` cut at `sizes` as parts 1, 2, ...; answers their ETags. */
async function putParts(base: string, up: Upload, data: Buffer, sizes: number[], who: Who = {}): Promise<string[]> {
  const etags: string[] = []
  let at = 0
  for (const [i, size] of sizes.entries()) etags.push(await putPart(base, up, i + 1, data.subarray(at, (at += size)), who))
  return etags
}

async function completed(base: string, up: Upload, parts?: { partNumber: number; etag: string }[], who: Who = {}): Promise<FileJson> {
  const res = await complete(base, up.fileId, { uploadId: up.uploadId, ...(parts ? { parts } : {}) }, who)
  expect(res.status).toBe(200)
  return (await res.json()) as FileJson
}

const named = (etags: string[]) => etags.map((etag, i) => ({ partNumber: i + 1, etag }))
const jobsOf = (server: TestServer, id: string) => server.db.selectFrom('job').select('status').where('file_id', '=', id).execute()

describe.each(backends().filter((b) => b.s3))('presigned multipart uploads on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, UPLOAD_ONLY)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('joins parts of 5, 5 and 2 MiB into the declared bytes, leaves only the object, and completes twice harmlessly', async () => {
    const data = randomData(12 * MiB)
    const up = await begun(server.url, { filename: 'video.bin', size: data.length, conversationId: 'conv-1' })
    expect(up).toMatchObject({ partSize: 8 * MiB, expiresAt: up.file.expiresAt, file: { id: up.fileId, status: 'uploading', size: data.length, conversationId: 'conv-1', uploadMetadata: { via: 'presigned-multipart' } } })
    await putParts(server.url, up, data, [5 * MiB, 5 * MiB, 2 * MiB])
    const first = await completed(server.url, up)
    expect(first).toMatchObject({ status: 'uploaded', size: data.length, contentType: 'application/octet-stream', expiresAt: null })
    expect(await contentSha(server.url, up.fileId)).toBe(sha256(data))
    expect(await server.storage.leftovers(up.fileId)).toEqual([up.fileId])
    expect((await completed(server.url, up)).uploadedAt).toBe(first.uploadedAt)
    expect(await jobsOf(server, up.fileId)).toEqual([{ status: 'queued' }])
    for (const res of [await sign(server.url, up, 1), await listParts(server.url, up), await abort(server.url, up.fileId)]) {
      await expectJsonError(res, 409, 'ERR_UPLOAD_COMPLETE')
    }
  })

  it('resumes after a reload: lists the stored part with its size and ETag, PUTs the rest, and completes naming every ETag', async () => {
    const data = randomData(12 * MiB)
    const up = await begun(server.url, { filename: 'video.bin', size: data.length })
    const [etag1] = await putParts(server.url, up, data, [5 * MiB])
    const listed = await listParts(server.url, up)
    expect(listed.headers.get('cache-control')).toBe('no-store')
    expect(await listed.json()).toEqual({ parts: [{ partNumber: 1, size: 5 * MiB, etag: etag1 }] })
    // The reloaded client keeps only fileId and uploadId: it signs parts 2 and 3 anew.
    const etag2 = await putPart(server.url, up, 2, data.subarray(5 * MiB, 10 * MiB))
    const etag3 = await putPart(server.url, up, 3, data.subarray(10 * MiB))
    expect((await completed(server.url, up, named([etag1 as string, etag2, etag3]))).status).toBe('uploaded')
    expect(await contentSha(server.url, up.fileId)).toBe(sha256(data))
  })

  it('refuses to complete before the stored parts add up to the declared size, naming both, then completes once they do', async () => {
    const data = randomData(6 * MiB)
    const up = await begun(server.url, { filename: 'early.bin', size: data.length })
    await putParts(server.url, up, data, [5 * MiB])
    expect(await errorOf(await complete(server.url, up.fileId, { uploadId: up.uploadId }), 409, 'ERR_UPLOAD_INCOMPLETE')).toMatch(`hold ${5 * MiB} bytes, not the ${6 * MiB} declared`)
    expect((await fileJson(server.url, up.fileId)).status).toBe('uploading')
    await putPart(server.url, up, 2, data.subarray(5 * MiB))
    expect((await completed(server.url, up)).size).toBe(data.length)
    expect(await contentSha(server.url, up.fileId)).toBe(sha256(data))
  })

  it('refuses a part under 5 MiB that is not the last and ETags other than the stored ones, then completes the parts PUT again', async () => {
    const data = randomData(6 * MiB)
    const up = await begun(server.url, { filename: 'small.bin', size: data.length })
    await putParts(server.url, up, data, [1 * MiB, 5 * MiB])
    expect(await errorOf(await complete(server.url, up.fileId, { uploadId: up.uploadId }), 409, 'ERR_UPLOAD_INCOMPLETE')).toMatch(`part 1 has ${MiB} bytes`)
    // PUT again, the same part numbers replace what was stored.
    const etags = await putParts(server.url, up, data, [5 * MiB, 1 * MiB])
    const wrong = named([etags[0] as string, '"0123456789abcdef0123456789abcdef"'])
    expect(await errorOf(await complete(server.url, up.fileId, { uploadId: up.uploadId, parts: wrong }), 409, 'ERR_UPLOAD_INCOMPLETE')).toMatch(/^part 2 is not stored with the ETag sent/)
    expect(await errorOf(await complete(server.url, up.fileId, { uploadId: up.uploadId, parts: named(etags.slice(0, 1)) }), 409, 'ERR_UPLOAD_INCOMPLETE')).toMatch(/2 parts are stored and 1 were named/)
    const twice = [...named(etags.slice(0, 1)), ...named(etags.slice(0, 1))]
    expect(await errorOf(await complete(server.url, up.fileId, { uploadId: up.uploadId, parts: twice }), 400, 'ERR_BAD_REQUEST')).toMatch(/part 1 is named twice/)
    expect((await fileJson(server.url, up.fileId)).status).toBe('uploading')
    expect((await completed(server.url, up, named(etags))).status).toBe('uploaded')
    expect(await contentSha(server.url, up.fileId)).toBe(sha256(data))
  })

  it('aborts on DELETE: the row and every stored part gone, then 404 on every route', async () => {
    const up = await begun(server.url, { filename: 'gone.bin', size: 6 * MiB })
    await putPart(server.url, up, 1, randomData(64 * 1024))
    expect(await server.storage.leftovers(up.fileId)).toEqual([`multipart-upload:${up.fileId}`])
    expect((await abort(server.url, up.fileId)).status).toBe(204)
    await expectJsonError(await fetch(`${server.url}/api/files/${up.fileId}`), 404, 'ERR_FILE_NOT_FOUND')
    expect(await server.storage.leftovers(up.fileId)).toEqual([])
    for (const res of [await sign(server.url, up, 2), await listParts(server.url, up), await complete(server.url, up.fileId, { uploadId: up.uploadId }), await abort(server.url, up.fileId)]) {
      await expectJsonError(res, 404, 'ERR_FILE_NOT_FOUND')
    }
  })

  it('lets the sweep abort an upload past its expiry: failed as upload_expired, nothing left, 410 on every route', async () => {
    const up = await begun(server.url, { filename: 'late.bin', size: 6 * MiB })
    await putPart(server.url, up, 1, randomData(64 * 1024))
    await server.db.updateTable('file').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', up.fileId).execute()
    // Past its expiry it is not finished, even before the sweep has come by (as tus answers a PATCH then).
    await putPart(server.url, up, 2, randomData(6 * MiB - 64 * 1024))
    expect(await errorOf(await complete(server.url, up.fileId, { uploadId: up.uploadId }), 410, 'ERR_UPLOAD_GONE')).toMatch(/expired before it was finished/)
    expect((await fileJson(server.url, up.fileId)).status).toBe('uploading')
    expect(await server.sweep()).toBe(1)
    const file = await fileJson<FileJson>(server.url, up.fileId)
    expect([file.status, file.error?.code]).toEqual(['failed', 'upload_expired'])
    expect(await server.storage.leftovers(up.fileId)).toEqual([])
    expect(await errorOf(await complete(server.url, up.fileId, { uploadId: up.uploadId }), 410, 'ERR_UPLOAD_GONE')).toMatch(/start a new one/)
    for (const res of [await sign(server.url, up, 2), await listParts(server.url, up), await abort(server.url, up.fileId)]) await expectJsonError(res, 410, 'ERR_UPLOAD_GONE')
  })

  it('acts only on presigned multipart uploads: 409 for a tus or single-PUT file, and confirm refuses a multipart one', async () => {
    const tusId = await uploadFile(server.url, Buffer.from(PEOPLE), { filename: 'people.csv' })
    const single = (await (await call(server.url, 'POST', '/api/files/upload-url', {}, { filename: 'people.csv', size: PEOPLE.length })).json()) as { fileId: string }
    for (const fileId of [tusId, single.fileId]) {
      expect(await errorOf(await complete(server.url, fileId, { uploadId: 'x' }), 409, 'ERR_NOT_PRESIGNED')).toMatch(/presigned multipart/)
      await expectJsonError(await sign(server.url, { fileId, uploadId: 'x' }, 1), 409, 'ERR_NOT_PRESIGNED')
      await expectJsonError(await abort(server.url, fileId), 409, 'ERR_NOT_PRESIGNED')
    }
    const up = await begun(server.url, { filename: 'people.csv', size: PEOPLE.length })
    await expectJsonError(await call(server.url, 'POST', '/api/files/confirm', {}, { fileId: up.fileId }), 409, 'ERR_NOT_PRESIGNED')
    expect((await fileJson(server.url, tusId)).status).toBe('uploaded')
    expect((await abort(server.url, up.fileId)).status).toBe(204)
  })
})

describe.each(backends().filter((b) => b.s3))('presigned multipart uploads through the pipeline on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, { UPLOAD_RATE_LIMIT: '0' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('gives a CSV sent in two parts (5 MiB + the rest) the same row, job and description as the same bytes sent by tus', async () => {
    const rows = Array.from({ length: 180_000 }, (_, i) => `${i},name-${i},2024-0${(i % 9) + 1}-1${i % 10},${(i % 1000) / 8}\n`)
    const csv = Buffer.from(`id,name,joined,score\n${rows.join('')}`)
    expect(csv.length).toBeGreaterThan(5 * MiB)
    const up = await begun(server.url, { filename: 'people.csv', contentType: 'text/csv', size: csv.length })
    await putParts(server.url, up, csv, [5 * MiB, csv.length - 5 * MiB])
    expect((await completed(server.url, up)).contentType).toBe('text/csv')
    const tusId = await uploadFile(server.url, csv, { filename: 'people.csv', filetype: 'text/csv' })
    const [multipart, byTus] = await Promise.all([settled(server.url, up.fileId), settled(server.url, tusId)])
    expect(multipart.status).toBe('ready')
    expect(multipart.description).toMatch(/^CSV, 180,000 rows x 4 columns/)
    expect([multipart.description, multipart.metadata]).toEqual([byTus.description, byTus.metadata])
    const [mine, theirs] = await Promise.all([fileJson<FileJson>(server.url, up.fileId), fileJson<FileJson>(server.url, tusId)])
    expect([mine.filename, mine.contentType, mine.size]).toEqual([theirs.filename, theirs.contentType, theirs.size])
    expect(await jobsOf(server, up.fileId)).toEqual([{ status: 'done' }])
    expect(await contentSha(server.url, up.fileId)).toBe(sha256(csv))
  })
})

describe.each(backends().filter((b) => b.s3))('presigned multipart rules with authentication required on $name', (backend) => {
  let server: TestServer
  const keyOf = async (userId: string) => ({ 'X-API-Key': (await createApiKey(server.db, { userId })).key })
  const idsOf = async (who: Who) => ((await (await fetch(`${server.url}/api/files`, { headers: who })).json()) as { files: FileJson[] }).files.map((f) => f.id)
  beforeAll(async () => {
    server = await startTestServer(backend, { WORKER_CONCURRENCY: '0', AUTH: 'required', MAX_UPLOAD_SIZE: '1000000', USER_QUOTA_BYTES: '500000', UPLOAD_RATE_LIMIT: '30' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("serves a user's upload to that user only: 404 for another on every route, 401 without credentials", async () => {
    const [alice, bob] = [await keyOf('alice'), await keyOf('bob')]
    await expectJsonError(await begin(server.url, { filename: 'people.csv', size: PEOPLE.length }), 401, 'ERR_UNAUTHENTICATED')
    const up = await begun(server.url, { filename: 'people.csv', size: PEOPLE.length }, alice)
    const etag = await putPart(server.url, up, 1, Buffer.from(PEOPLE), alice)
    for (const who of [bob, {}]) {
      const [status, code] = who === bob ? [404, 'ERR_FILE_NOT_FOUND'] : [401, 'ERR_UNAUTHENTICATED']
      await expectJsonError(await sign(server.url, up, 2, who), status, code)
      await expectJsonError(await listParts(server.url, up, who), status, code)
      await expectJsonError(await complete(server.url, up.fileId, { uploadId: up.uploadId }, who), status, code)
      await expectJsonError(await abort(server.url, up.fileId, who), status, code)
    }
    expect(await completed(server.url, up, named([etag]), alice)).toMatchObject({ status: 'uploaded', size: PEOPLE.length })
  })

  it('refuses at creation what tus refuses: over MAX_UPLOAD_SIZE, a refused type, past the quota, and an empty file', async () => {
    const carol = await keyOf('carol')
    expect(await errorOf(await begin(server.url, { filename: 'big.csv', size: 1_000_001 }, carol), 413, 'ERR_MAX_SIZE_EXCEEDED')).toMatch(/this server accepts$/)
    await expectJsonError(await begin(server.url, { filename: 'setup.exe', size: 10 }, carol), 415, 'ERR_TYPE_NOT_ALLOWED')
    const held = await begun(server.url, { filename: 'half.csv', size: 400_000 }, carol)
    expect(await errorOf(await begin(server.url, { filename: 'more.csv', size: 200_000 }, carol), 413, 'ERR_QUOTA_EXCEEDED')).toMatch(/400000 of 500000 bytes/)
    expect(await errorOf(await begin(server.url, { filename: 'empty.csv', size: 0 }, carol), 400, 'ERR_BAD_REQUEST')).toMatch(/^size: an empty file/)
    expect(await idsOf(carol)).toEqual([held.fileId])
    expect((await abort(server.url, held.fileId, carol)).status).toBe(204)
  })

  it('refuses malformed bodies, part numbers and upload ids with 400, an unknown upload id with 404, and leaves no row behind', async () => {
    const dave = await keyOf('dave')
    const badBegin = ['{"filename": "a.csv", "size":', {}, { filename: 'a.csv', size: 10, owner: 'eve' }, { filename: 'a.csv', size: -1 }, { filename: 'a.csv', size: '10' }]
    for (const body of badBegin) await expectJsonError(await begin(server.url, body, dave), 400, 'ERR_BAD_REQUEST')
    const up = await begun(server.url, { filename: 'a.csv', size: PEOPLE.length }, dave)
    for (const part of ['0', '10001', 'abc', '1.5', '-1']) {
      expect(await errorOf(await sign(server.url, up, part, dave), 400, 'ERR_BAD_REQUEST')).toMatch(/partNumber must be a whole number from 1 to 10000/)
    }
    for (const uploadId of [undefined, '', 'has space', 'x'.repeat(1025), 'é']) {
      await expectJsonError(await sign(server.url, { fileId: up.fileId, uploadId }, 1, dave), 400, 'ERR_BAD_REQUEST')
      await expectJsonError(await listParts(server.url, { fileId: up.fileId, uploadId }, dave), 400, 'ERR_BAD_REQUEST')
    }
    const badComplete = ['{"uploadId":', {}, { uploadId: 'has space' }, { uploadId: up.uploadId, extra: 1 }, { uploadId: up.uploadId, parts: [{ partNumber: 0, etag: 'x' }] }]
    for (const body of badComplete) await expectJsonError(await complete(server.url, up.fileId, body, dave), 400, 'ERR_BAD_REQUEST')
    await expectJsonError(await complete(server.url, up.fileId, { uploadId: `${up.uploadId}x` }, dave), 404, 'ERR_UPLOAD_NOT_FOUND')
    await expectJsonError(await listParts(server.url, { fileId: up.fileId, uploadId: 'not-an-upload' }, dave), 404, 'ERR_UPLOAD_NOT_FOUND')
    await expectJsonError(await sign(server.url, { fileId: 'not-a-uuid', uploadId: up.uploadId }, 1, dave), 404, 'ERR_FILE_NOT_FOUND')
    expect(await idsOf(dave)).toEqual([up.fileId])
    expect((await abort(server.url, up.fileId, dave)).status).toBe(204)
  })

  it('counts creations against UPLOAD_RATE_LIMIT, refused ones too: 429 with Retry-After past it', async () => {
    const erin = await keyOf('erin')
    for (let i = 0; i < 30; i++) await expectJsonError(await begin(server.url, { filename: 'a.exe', size: 1 }, erin), 415, 'ERR_TYPE_NOT_ALLOWED')
    const limited = await begin(server.url, { filename: 'a.csv', size: 1 }, erin)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    await expectJsonError(limited, 429, 'ERR_RATE_LIMITED')
    expect(await idsOf(erin)).toEqual([])
  })
})
