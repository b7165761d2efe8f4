/**
 * Presigned uploads straight to S3 (POST /api/files/upload-url, PUT, POST
 * /api/files/confirm) against the running server and a real store: the bytes
 * land intact and the worker gives them the same row, job and description as
 * tus; the store refuses a body of another size or type and an expired URL;
 * confirm refuses what was never stored, is harmless twice, answers 410 once
 * the sweep removed an abandoned upload, and acts on the caller's files only;
 * upload-url obeys the same size, type and quota rules as tus and refuses
 * malformed bodies. On local disk there is nothing to presign, single PUT or
 * multipart: 501.
 */
import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../server/auth/api-keys.ts'
import { backends, UPLOAD_ONLY } from './helpers/backends.ts'
import { contentSha, errorOf, expectJsonError, fileJson, uploadFile } from './helpers/files.ts'
import { settled } from './helpers/pipeline.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { sha256 } from './helpers/tus.ts'

type FileJson = { id: string; filename: string; conversationId: string | null; contentType: string; size: number; status: string; error: { code: string } | null; uploadedAt: string | null; expiresAt: string | null }
type Grant = { fileId: string; uploadUrl: string; method: string; headers: Record<string, string>; expiresAt: string; confirmUrl: string; file: FileJson }

const PEOPLE = 'name,age,joined,score\nAda,36,2024-01-05,9.5\nGrace,45,2023-11-30,8.25\nLinus,28,2025-02-14,7\n'
const NOTES = Buffer.from('a plain text note, long enough to be cut short\n'.repeat(20))
const JSON_TYPE = { 'Content-Type': 'application/json' }

function askUrl(base: string, body: unknown, who: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/files/upload-url`, { method: 'POST', headers: { ...JSON_TYPE, ...who }, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

async function grant(base: string, body: unknown, who: Record<string, string> = {}): Promise<Grant> {
  const res = await askUrl(base, body, who)
  expect(res.status).toBe(201)
  return (await res.json()) as Grant
}

/** The client's PUT to the store, with the headers upload-url gave unless told otherwise. */
async function put(g: Grant, data: Uint8Array | string, headers = g.headers): Promise<{ status: number; body: string }> {
  const res = await fetch(g.uploadUrl, { method: g.method, headers, body: data as BodyInit })
  return { status: res.status, body: await res.text() }
}

function confirm(base: string, fileId: string, who: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/files/confirm`, { method: 'POST', headers: { ...JSON_TYPE, ...who }, body: JSON.stringify({ fileId }) })
}

async function confirmed(base: string, fileId: string, who: Record<string, string> = {}): Promise<FileJson> {
  const res = await confirm(base, fileId, who)
  expect(res.status).toBe(200)
  return (await res.json()) as FileJson
}

const jobsOf = (server: TestServer, id: string) => server.db.selectFrom('job').select('status').where('file_id', '=', id).execute()

describe.each(backends().filter((b) => b.s3))('presigned uploads through the pipeline on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, { UPLOAD_RATE_LIMIT: '0' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('stores the PUT bytes and gives them the same row, job and description as the same bytes sent by tus', async () => {
    const conversationId = `conv-${randomUUID()}`
    const g = await grant(server.url, { filename: 'people.csv', contentType: 'text/csv', size: PEOPLE.length, conversationId })
    expect(g).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'text/csv' }, confirmUrl: '/api/files/confirm', file: { id: g.fileId, filename: 'people.csv', size: PEOPLE.length, status: 'uploading', conversationId } })
    expect(Date.parse(g.expiresAt) - Date.now()).toBeGreaterThan(3590_000)
    expect(Date.parse(g.expiresAt) - Date.now()).toBeLessThanOrEqual(3600_000)
    expect(Date.parse(g.file.expiresAt as string) - Date.parse(g.expiresAt)).toBe(15 * 60_000)
    expect((await put(g, PEOPLE)).status).toBe(200)

    const record = await confirmed(server.url, g.fileId)
    expect(record).toMatchObject({ id: g.fileId, size: PEOPLE.length, contentType: 'text/csv', expiresAt: null })
    expect(['uploaded', 'processing', 'ready']).toContain(record.status)
    expect(record.uploadedAt).not.toBeNull()
    expect(await contentSha(server.url, g.fileId)).toBe(sha256(Buffer.from(PEOPLE)))

    const tusId = await uploadFile(server.url, Buffer.from(PEOPLE), { filename: 'people.csv', filetype: 'text/csv' })
    const [presigned, byTus] = await Promise.all([settled(server.url, g.fileId), settled(server.url, tusId)])
    expect(presigned.status).toBe('ready')
    expect(presigned.description).toMatch(/^CSV, 3 rows x 4 columns/)
    expect(presigned.description).toBe(byTus.description)
    expect(presigned.metadata).toEqual(byTus.metadata)
    expect(await jobsOf(server, g.fileId)).toEqual([{ status: 'done' }])
  })

  it('lets the store refuse a body longer or shorter than declared, or of another type; confirm then finds nothing', async () => {
    const g = await grant(server.url, { filename: 'notes.txt', size: NOTES.length })
    expect(g.headers).toEqual({ 'Content-Type': 'text/plain' })
    for (const body of [Buffer.concat([NOTES, Buffer.from('!')]), NOTES.subarray(0, 100)]) {
      const res = await put(g, body)
      expect(res.status).toBe(403)
      expect(res.body).toContain('<Code>SignatureDoesNotMatch</Code>')
    }
    const wrongType = await put(g, NOTES, { 'Content-Type': 'application/octet-stream' })
    expect([wrongType.status, wrongType.body.includes('<Code>SignatureDoesNotMatch</Code>')]).toEqual([403, true])
    expect(await errorOf(await confirm(server.url, g.fileId), 409, 'ERR_UPLOAD_INCOMPLETE')).toMatch(/PUT the bytes there, then confirm/)
    expect((await fileJson(server.url, g.fileId)).status).toBe('uploading')
    // The same URL with the right body is accepted: the refusals above were about the body.
    expect((await put(g, NOTES)).status).toBe(200)
    expect((await confirmed(server.url, g.fileId)).size).toBe(NOTES.length)
    expect(await contentSha(server.url, g.fileId)).toBe(sha256(NOTES))
  })

  it('refuses to confirm an object of another size than declared, stored by a store that does not check', async () => {
    const g = await grant(server.url, { filename: 'notes.txt', size: NOTES.length })
    await server.storage.putObject(g.fileId, Readable.from([NOTES.subarray(0, 100)]), { contentType: 'text/plain', filename: 'notes.txt' })
    expect(await errorOf(await confirm(server.url, g.fileId), 409, 'ERR_UPLOAD_INCOMPLETE')).toMatch(`has 100 bytes, not the ${NOTES.length} declared`)
    expect((await fileJson(server.url, g.fileId)).status).toBe('uploading')
  })

  it('asks to PUT first when nothing is stored, and confirms twice harmlessly: one job, status never set back', async () => {
    const g = await grant(server.url, { filename: 'people.csv', size: PEOPLE.length })
    expect(await errorOf(await confirm(server.url, g.fileId), 409, 'ERR_UPLOAD_INCOMPLETE')).toMatch(/PUT the bytes there, then confirm/)
    expect((await put(g, PEOPLE)).status).toBe(200)
    const [first, second] = [await confirmed(server.url, g.fileId), await confirmed(server.url, g.fileId)]
    expect(second.uploadedAt).toBe(first.uploadedAt)
    expect((await settled(server.url, g.fileId)).status).toBe('ready')
    expect((await confirmed(server.url, g.fileId)).status).toBe('ready')
    expect(await jobsOf(server, g.fileId)).toEqual([{ status: 'done' }])
  })

  it('confirms only presigned uploads: 409 for a tus upload, 404 for an unknown id, 400 for no id', async () => {
    const tusId = await uploadFile(server.url, Buffer.from(PEOPLE), { filename: 'people.csv' })
    expect(await errorOf(await confirm(server.url, tusId), 409, 'ERR_NOT_PRESIGNED')).toMatch(/presigned/)
    await expectJsonError(await confirm(server.url, randomUUID()), 404, 'ERR_FILE_NOT_FOUND')
    await expectJsonError(await confirm(server.url, 'people.csv'), 400, 'ERR_BAD_REQUEST')
  })

  it('sends files over the 5 GiB one PUT holds to tus, even below MAX_UPLOAD_SIZE', async () => {
    expect(await errorOf(await askUrl(server.url, { filename: 'big.csv', size: 6 * 1024 ** 3 }), 413, 'ERR_MAX_SIZE_EXCEEDED')).toMatch(/upload larger files with presigned multipart \(POST \/api\/files\/multipart\) or tus\)$/)
  })
})

describe.each(backends().filter((b) => b.s3))('presigned URLs that expire on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, { ...UPLOAD_ONLY, PRESIGN_EXPIRY_SECONDS: '1' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('refuses a PUT after expiry, and the sweep removes an unconfirmed upload after the grace: failed, nothing left, 410', async () => {
    const late = await grant(server.url, { filename: 'late.csv', size: PEOPLE.length })
    const abandoned = await grant(server.url, { filename: 'abandoned.csv', size: PEOPLE.length })
    // Bytes PUT in time but never confirmed (put directly: a 1 s URL leaves too little time to PUT reliably).
    await server.storage.putObject(abandoned.fileId, Readable.from([Buffer.from(PEOPLE)]), { contentType: 'text/csv', filename: 'abandoned.csv' })
    expect(await server.storage.leftovers(abandoned.fileId)).toEqual([abandoned.fileId])
    await new Promise((r) => setTimeout(r, 2500))

    const refused = await put(late, PEOPLE)
    expect(refused.status).toBe(403)
    expect(refused.body).toMatch(/<Code>AccessDenied<\/Code><Message>Request has expired/)
    // Within the 15 min grace after the URL's expiry, nothing is swept.
    await server.sweep(new Date())
    expect((await fileJson(server.url, abandoned.fileId)).status).toBe('uploading')

    await server.sweep(new Date(Date.now() + 20 * 60_000))
    for (const g of [late, abandoned]) {
      const file = await fileJson<FileJson>(server.url, g.fileId)
      expect([file.status, file.error?.code]).toEqual(['failed', 'upload_expired'])
      expect(await server.storage.leftovers(g.fileId)).toEqual([])
      expect(await errorOf(await confirm(server.url, g.fileId), 410, 'ERR_UPLOAD_GONE')).toMatch(/ask for a new one/)
    }
  })
})

describe.each(backends().filter((b) => b.s3))('presigned upload rules with authentication required on $name', (backend) => {
  let server: TestServer
  const keyOf = async (userId: string) => ({ 'X-API-Key': (await createApiKey(server.db, { userId })).key })
  beforeAll(async () => {
    server = await startTestServer(backend, { WORKER_CONCURRENCY: '0', AUTH: 'required', MAX_UPLOAD_SIZE: '1000000', USER_QUOTA_BYTES: '500000' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("confirms a user's upload for that user only: 404 for another, 401 without credentials", async () => {
    const [alice, bob] = [await keyOf('alice'), await keyOf('bob')]
    await expectJsonError(await askUrl(server.url, { filename: 'people.csv', size: PEOPLE.length }), 401, 'ERR_UNAUTHENTICATED')
    const g = await grant(server.url, { filename: 'people.csv', size: PEOPLE.length }, alice)
    expect((await put(g, PEOPLE)).status).toBe(200)
    await expectJsonError(await confirm(server.url, g.fileId, bob), 404, 'ERR_FILE_NOT_FOUND')
    await expectJsonError(await confirm(server.url, g.fileId), 401, 'ERR_UNAUTHENTICATED')
    expect(await confirmed(server.url, g.fileId, alice)).toMatchObject({ status: 'uploaded', size: PEOPLE.length })
  })

  it('refuses at upload-url what tus refuses: over MAX_UPLOAD_SIZE, a refused type, past the quota', async () => {
    const carol = await keyOf('carol')
    expect(await errorOf(await askUrl(server.url, { filename: 'big.csv', size: 1_000_001 }, carol), 413, 'ERR_MAX_SIZE_EXCEEDED')).toMatch(/larger than the .+ this server accepts$/)
    await expectJsonError(await askUrl(server.url, { filename: 'setup.exe', size: 10 }, carol), 415, 'ERR_TYPE_NOT_ALLOWED')
    const held = await grant(server.url, { filename: 'half.csv', size: 400_000 }, carol)
    expect(await errorOf(await askUrl(server.url, { filename: 'more.csv', size: 200_000 }, carol), 413, 'ERR_QUOTA_EXCEEDED')).toMatch(/400000 of 500000 bytes/)
    const listed = (await (await fetch(`${server.url}/api/files`, { headers: carol })).json()) as { files: FileJson[] }
    expect(listed.files.map((f) => f.id)).toEqual([held.fileId])
  })

  it('refuses malformed bodies with 400 naming the problem (413 for one over 16 KiB), and leaves no row behind', async () => {
    const dave = await keyOf('dave')
    await expectJsonError(await askUrl(server.url, '{"filename": "a.csv", "size":', dave), 400, 'ERR_BAD_REQUEST')
    const missing = await errorOf(await askUrl(server.url, {}, dave), 400, 'ERR_BAD_REQUEST')
    expect([missing.includes('filename'), missing.includes('size')]).toEqual([true, true])
    for (const size of [-1, 1.5, '10']) {
      expect(await errorOf(await askUrl(server.url, { filename: 'a.csv', size }, dave), 400, 'ERR_BAD_REQUEST')).toMatch(/^size: /)
    }
    expect(await errorOf(await askUrl(server.url, { filename: 'a.csv', size: 10, owner: 'eve' }, dave), 400, 'ERR_BAD_REQUEST')).toMatch(/"owner"/)
    const huge = await askUrl(server.url, { filename: 'a.csv', size: 10, conversationId: 'x'.repeat(17 * 1024) }, dave)
    expect(await errorOf(huge, 413, 'ERR_BODY_TOO_LARGE')).toBe('the request body is larger than the 16384 bytes this endpoint takes')
    const listed = (await (await fetch(`${server.url}/api/files`, { headers: dave })).json()) as { files: FileJson[] }
    expect(listed.files).toEqual([])
  })
})

describe.each(backends().filter((b) => !b.s3))('presigned uploads on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, UPLOAD_ONLY)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.each([
    ['a single PUT', '/api/files/upload-url'],
    ['multipart', '/api/files/multipart'],
  ])('answers 501 for %s on local disk, pointing at tus and the form post, and records nothing', async (_kind, route) => {
    const body = JSON.stringify({ filename: 'people.csv', size: PEOPLE.length })
    const message = await errorOf(await fetch(`${server.url}${route}`, { method: 'POST', headers: JSON_TYPE, body }), 501, 'ERR_PRESIGN_UNAVAILABLE')
    expect(message).toMatch(/tus \(\/files\).*form post \(POST \/api\/files\)/)
    expect(((await (await fetch(`${server.url}/api/files`)).json()) as { files: unknown[] }).files).toEqual([])
  })
})
