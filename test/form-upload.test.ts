/**
 * POST /api/files with multipart/form-data against the running server, on
 * every backend: files sent by fetch + FormData and by a hand-made body come
 * back as the same records GET /api/files/:id serves, with their bytes intact
 * and the text fields (before or after the files) on every file; the worker
 * turns a form file into the same row, job and description as the same bytes
 * sent by tus; and the form obeys authentication, ownership and the rate limit.
 * The refusals (size, type, malformed bodies, quota, a client that leaves) are
 * in form-upload-hostile.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../server/auth/api-keys.ts'
import { backends, UPLOAD_ONLY } from './helpers/backends.ts'
import { contentSha, expectJsonError, fileJson, uploadFile } from './helpers/files.ts'
import { settled } from './helpers/pipeline.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { randomData, rawRequest, sha256 } from './helpers/tus.ts'

type FileJson = { id: string; filename: string; conversationId: string | null; contentType: string; size: number; status: string; uploadMetadata: Record<string, string> }

const PEOPLE = 'name,age,joined,score\nAda,36,2024-01-05,9.5\nGrace,45,2023-11-30,8.25\nLinus,28,2025-02-14,7\n'
const BOUNDARY = '----filedock-form-7f3a9c'

type Part = { name: string; value: string | Uint8Array; filename?: string; type?: string }

/** A multipart/form-data body, parts in the order given. */
function multipart(parts: Part[]): Buffer {
  const chunks = parts.flatMap((p) => [
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`),
    Buffer.from(p.value),
    Buffer.from('\r\n'),
  ])
  return Buffer.concat([...chunks, Buffer.from(`--${BOUNDARY}--\r\n`)])
}

async function postForm(base: string, form: FormData, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/files`, { method: 'POST', body: form, headers })
}

async function filesOf(res: Response): Promise<FileJson[]> {
  expect(res.status).toBe(201)
  const body = (await res.json()) as { files: FileJson[] }
  return body.files
}

describe.each(backends())('form uploads on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, UPLOAD_ONLY)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('stores a file sent with fetch and FormData, its fields in uploadMetadata, its type from the extension', async () => {
    const data = randomData(300 * 1024)
    const conversationId = `conv-${randomUUID()}`
    const form = new FormData()
    form.append('conversationId', conversationId)
    form.append('intent', 'summarise the quarter')
    form.append('file', new Blob([new Uint8Array(data)], { type: 'application/octet-stream' }), 'sales.csv')
    const files = await filesOf(await postForm(server.url, form))
    expect(files).toHaveLength(1)
    const [file] = files as [FileJson]
    expect(file).toMatchObject({ filename: 'sales.csv', contentType: 'text/csv', size: data.length, conversationId })
    expect(['uploaded', 'processing', 'ready']).toContain(file.status)
    expect(file.uploadMetadata).toEqual({ conversationId, intent: 'summarise the quarter', filename: 'sales.csv' })
    expect(await fileJson(server.url, file.id)).toEqual(file)
    expect(await contentSha(server.url, file.id)).toBe(sha256(data))
    const listed = await fetch(`${server.url}/api/files?conversationId=${conversationId}`)
    expect(((await listed.json()) as { files: FileJson[] }).files.map((f) => f.id)).toEqual([file.id])
  })

  it('puts the text fields sent after the files on every file', async () => {
    const [a, b] = [randomData(70_000), Buffer.from('{"rows":[1,2,3]}')]
    const conversationId = `conv-${randomUUID()}`
    const body = multipart([
      { name: 'file', filename: 'a.csv', value: a, type: 'application/octet-stream' },
      { name: 'file', filename: 'b.json', value: b, type: 'application/json' },
      // No Content-Type: busboy reports text/plain, and the extension decides instead.
      { name: 'file', filename: 'c.csv', value: 'x,y\n1,2\n' },
      { name: 'conversationId', value: conversationId },
      { name: 'message', value: 'compare these two, please' },
    ])
    const res = await rawRequest(`${server.url}/api/files`, 'POST', { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, body)
    expect(res.status).toBe(201)
    const { files } = JSON.parse(res.body) as { files: FileJson[] }
    expect(files.map((f) => [f.filename, f.contentType, f.size])).toEqual([
      ['a.csv', 'text/csv', a.length],
      ['b.json', 'application/json', b.length],
      ['c.csv', 'text/csv', 8],
    ])
    for (const [i, file] of files.entries()) {
      expect(file.conversationId).toBe(conversationId)
      expect(file.uploadMetadata).toMatchObject({ conversationId, message: 'compare these two, please', filename: file.filename })
      expect(await contentSha(server.url, file.id)).toBe(sha256([a, b, Buffer.from('x,y\n1,2\n')][i] as Buffer))
    }
    const listed = await fetch(`${server.url}/api/files?conversationId=${conversationId}`)
    expect(((await listed.json()) as { files: FileJson[] }).files.map((f) => f.filename).sort()).toEqual(['a.csv', 'b.json', 'c.csv'])
  })
})

describe.each(backends())('form uploads through the pipeline on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, { UPLOAD_RATE_LIMIT: '0' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('gives a form file the same row, job and description as the same bytes sent by tus', async () => {
    const form = new FormData()
    form.append('file', new Blob([PEOPLE], { type: 'text/csv' }), 'people.csv')
    const [posted] = (await filesOf(await postForm(server.url, form))) as [FileJson]
    const tusId = await uploadFile(server.url, Buffer.from(PEOPLE), { filename: 'people.csv', filetype: 'text/csv' })
    const [byForm, byTus] = await Promise.all([settled(server.url, posted.id), settled(server.url, tusId)])
    expect(byForm.status).toBe('ready')
    expect(byForm.description).toMatch(/^CSV, 3 rows x 4 columns/)
    expect(byForm.description).toBe(byTus.description)
    expect(byForm.metadata).toEqual(byTus.metadata)
    const [formRecord, tusRecord] = await Promise.all([fileJson<FileJson>(server.url, posted.id), fileJson<FileJson>(server.url, tusId)])
    expect([formRecord.filename, formRecord.contentType, formRecord.size]).toEqual([tusRecord.filename, tusRecord.contentType, tusRecord.size])
    const jobs = await server.db.selectFrom('job').select(['file_id', 'status']).where('file_id', 'in', [posted.id, tusId]).execute()
    expect(jobs.map((j) => [j.file_id, j.status]).sort()).toEqual([[posted.id, 'done'], [tusId, 'done']].sort())
  })
})

describe.each(backends())('form uploads with authentication required on $name', (backend) => {
  let server: TestServer
  let alice: Record<string, string>
  let bob: Record<string, string>
  beforeAll(async () => {
    server = await startTestServer(backend, { ...UPLOAD_ONLY, AUTH: 'required', UPLOAD_RATE_LIMIT: '5' })
    alice = { 'X-API-Key': (await createApiKey(server.db, { userId: 'alice' })).key }
    bob = { 'X-API-Key': (await createApiKey(server.db, { userId: 'bob' })).key }
  })
  afterAll(async () => {
    await server?.stop()
  })

  const oneFile = () => {
    const form = new FormData()
    form.append('file', new Blob([PEOPLE]), 'people.csv')
    return form
  }

  it('refuses a form without credentials with 401, and stores it for the key that sent it, for no one else', async () => {
    await expectJsonError(await postForm(server.url, oneFile()), 401, 'ERR_UNAUTHENTICATED')
    const [file] = (await filesOf(await postForm(server.url, oneFile(), alice))) as [FileJson]
    const mine = await fetch(`${server.url}/api/files/${file.id}`, { headers: alice })
    expect(((await mine.json()) as FileJson).filename).toBe('people.csv')
    await expectJsonError(await fetch(`${server.url}/api/files/${file.id}`, { headers: bob }), 404, 'ERR_FILE_NOT_FOUND')
    const bobs = await fetch(`${server.url}/api/files`, { headers: bob })
    expect(((await bobs.json()) as { files: FileJson[] }).files).toEqual([])
  })

  it('counts form posts against UPLOAD_RATE_LIMIT: 429 with Retry-After past it', async () => {
    const carol = { 'X-API-Key': (await createApiKey(server.db, { userId: 'carol' })).key }
    for (let i = 0; i < 5; i++) expect((await postForm(server.url, oneFile(), carol)).status).toBe(201)
    const limited = await postForm(server.url, oneFile(), carol)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    await expectJsonError(limited, 429, 'ERR_RATE_LIMITED')
  })
})
