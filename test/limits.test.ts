/**
 * What a client sees at each limit: the type rules, the per-user quota
 * (counted on declared sizes, so parallel creations cannot race past it),
 * the creation rate limit and the metadata caps. Each answer is a 4xx with
 * a message that names the rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from './helpers/backends.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { b64, metadataHeader, TUS } from './helpers/tus.ts'

const [backend] = backends()

async function create(base: string, length: number | 'defer', meta: Record<string, string>): Promise<Response> {
  const headers: Record<string, string> = { ...TUS, 'Upload-Metadata': metadataHeader(meta) }
  if (length === 'defer') headers['Upload-Defer-Length'] = '1'
  else headers['Upload-Length'] = String(length)
  return fetch(`${base}/files`, { method: 'POST', headers })
}

async function expectTusError(res: Response, status: number, code: string, message: RegExp): Promise<void> {
  expect(res.status).toBe(status)
  const text = await res.text()
  expect(text).toMatch(new RegExp(`^${code}: `))
  expect(text).toMatch(message)
}

describe('type rules, quota, rate limit, metadata caps', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend as NonNullable<typeof backend>, { WORKER_CONCURRENCY: '0', USER_QUOTA_BYTES: '1000', UPLOAD_RATE_LIMIT: '40' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('accepts the types the pipeline reads and refuses others with the allowed list', async () => {
    expect((await create(server.url, 1, { filename: 'a.csv', filetype: 'text/csv' })).status).toBe(201)
    expect((await create(server.url, 1, { filename: 'notes', filetype: 'text/plain' })).status).toBe(201)
    await expectTusError(await create(server.url, 1, { filename: 'setup.exe' }), 415, 'ERR_TYPE_NOT_ALLOWED', /\.exe are not accepted.*allowed: csv, tsv/)
    await expectTusError(await create(server.url, 1, { filename: 'blob' }), 415, 'ERR_TYPE_NOT_ALLOWED', /no extension and no declared type/)
    await expectTusError(await create(server.url, 1, { filename: 'blob', filetype: 'application/zip' }), 415, 'ERR_TYPE_NOT_ALLOWED', /application\/zip is not accepted/)
  })

  it('refuses an upload past the quota, counting declared sizes, and lets parallel creations through only up to it', async () => {
    // 2 bytes used by the first test. 10 parallel creations of 200 bytes: exactly 4 fit in the 998 left.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => create(server.url, 200, { filename: `p${i}.csv` })))
    expect(answers.filter((r) => r.status === 201)).toHaveLength(4)
    const refused = answers.filter((r) => r.status !== 201)
    for (const res of refused) await expectTusError(res, 413, 'ERR_QUOTA_EXCEEDED', /quota: \d+ of 1000 bytes are in use/)
    await expectTusError(await create(server.url, 500, { filename: 'more.csv' }), 413, 'ERR_QUOTA_EXCEEDED', /500 bytes/)
  })

  it('refuses a deferred length while a quota is in force, which could fill MAX_UPLOAD_SIZE unannounced', async () => {
    await expectTusError(await create(server.url, 'defer', { filename: 'later.csv' }), 400, 'ERR_INVALID_LENGTH', /quotas are in force: send Upload-Length/)
  })

  it('caps the number of metadata entries', async () => {
    const meta = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v'])) // 33 with the filename
    await expectTusError(await create(server.url, 1, { filename: 'a.csv', ...meta }), 400, 'ERR_METADATA_TOO_LARGE', /33 entries; at most 32/)
  })

  it('answers 429 with Retry-After once a user creates uploads too fast', async () => {
    let limited: Response | undefined
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': '0', 'Upload-Metadata': `filename ${b64('z.csv')}` } })
      if (res.status === 429) limited = res
      else await res.arrayBuffer()
    }
    expect(limited).toBeDefined()
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    await expectTusError(limited as Response, 429, 'ERR_RATE_LIMITED', /Retry-After/)
  })
})
