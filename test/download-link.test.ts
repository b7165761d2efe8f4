/**
 * Signed download links (POST /api/files/:id/download-url), on every backend,
 * with authentication required: the link alone fetches the owner's file
 * (whole, by range, by HEAD); a forged, altered, expired, foreign or stale
 * link gets 403 and no byte; the link asks the caller's credentials first.
 */
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../server/auth/api-keys.ts'
import { createDownloadLinks } from '../server/http/download-link.ts'
import { backends, UPLOAD_ONLY } from './helpers/backends.ts'
import { errorOf, expectJsonError } from './helpers/files.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { randomData, sha256 } from './helpers/tus.ts'

const SECRET = 'download-links-test-secret-0123456789abcdef'
type Link = { url: string; expiresAt: string }

describe.each(backends())('signed download links on $name', (backend) => {
  let server: TestServer
  let alice: Record<string, string>
  let bob: Record<string, string>
  beforeAll(async () => {
    server = await startTestServer(backend, { ...UPLOAD_ONLY, AUTH: 'required', DOWNLOAD_LINK_SECRET: SECRET, DOWNLOAD_LINK_EXPIRY_SECONDS: '120' })
    alice = { 'X-API-Key': (await createApiKey(server.db, { userId: 'alice' })).key }
    bob = { 'X-API-Key': (await createApiKey(server.db, { userId: 'bob' })).key }
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** A file sent by form post as `who`; its id. */
  async function upload(who: Record<string, string>, data: Uint8Array, filename = 'report.csv'): Promise<string> {
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(data)], { type: 'text/csv' }), filename)
    const res = await fetch(`${server.url}/api/files`, { method: 'POST', body: form, headers: who })
    expect(res.status).toBe(201)
    return ((await res.json()) as { files: { id: string }[] }).files[0]!.id
  }

  const askLink = (id: string, who: Record<string, string>) => fetch(`${server.url}/api/files/${id}/download-url`, { method: 'POST', headers: who })
  async function linkFor(id: string, who: Record<string, string>): Promise<Link> {
    const res = await askLink(id, who)
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    return (await res.json()) as Link
  }
  /** Expects 403 ERR_LINK_INVALID; returns the message. */
  const refused = (res: Response) => errorOf(res, 403, 'ERR_LINK_INVALID')

  it('serves the owner file to the link alone: whole, a range, and HEAD, as an attachment', async () => {
    const data = randomData(300_000)
    const id = await upload(alice, data, 'q3 report.csv')
    const before = Date.now()
    const link = await linkFor(id, alice)
    expect(link.url).toMatch(new RegExp(`^/api/files/${id}/content\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`))
    const expiresIn = Date.parse(link.expiresAt) - before
    expect(expiresIn).toBeGreaterThan(110_000)
    expect(expiresIn).toBeLessThanOrEqual(121_000)

    const whole = await fetch(`${server.url}${link.url}`)
    expect(whole.status).toBe(200)
    expect(whole.headers.get('content-disposition')).toMatch(/^attachment; filename="q3 report.csv"/)
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256(data))
    const part = await fetch(`${server.url}${link.url}`, { headers: { Range: 'bytes=100-199' } })
    expect(part.status).toBe(206)
    expect(Buffer.from(await part.arrayBuffer())).toEqual(data.subarray(100, 200))
    const head = await fetch(`${server.url}${link.url}`, { method: 'HEAD' })
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(data.length)])
    // Without the link, the credentials decide as before.
    await expectJsonError(await fetch(`${server.url}/api/files/${id}/content`), 401, 'ERR_UNAUTHENTICATED')
  })

  it('refuses a link that was altered, moved to another file, forged or cut, with 403 and no byte', async () => {
    const id = await upload(alice, randomData(1000))
    const other = await upload(alice, randomData(1000), 'other.csv')
    const { url } = await linkFor(id, alice)
    const query = new URL(url, server.url).searchParams
    const [expires, signature] = [query.get('expires')!, query.get('signature')!]
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`
    const cases = [
      `/api/files/${id}/content?expires=${expires}&signature=${flipped}`,
      `/api/files/${id}/content?expires=${Number(expires) + 3600}&signature=${signature}`,
      `/api/files/${other}/content?expires=${expires}&signature=${signature}`,
      `/api/files/${id}/content?expires=${expires}&signature=${signature.slice(1)}`,
      `/api/files/${id}/content?expires=${expires}`,
      `/api/files/${id}/content?signature=${signature}`,
      `/api/files/${id}/content?expires=-1&signature=${signature}`,
      `/api/files/${id}/content?expires=${expires}&signature=${signature}&signature=${signature}`,
      `/api/files/not-a-uuid/content?expires=${expires}&signature=${signature}`,
    ]
    for (const path of cases) {
      const res = await fetch(`${server.url}${path}`)
      expect(res.headers.get('content-disposition'), path).toBeNull()
      await refused(res)
    }
  })

  it('refuses an expired link, saying so, and a link made with another key', async () => {
    const id = await upload(alice, randomData(1000))
    // Signed with the server's own key, an hour ago, for a minute: expired.
    const past = createDownloadLinks({ secret: SECRET, expirySeconds: 60 }).sign({ id, ownerId: 'alice' }, Date.now() - 3600_000)
    expect(await refused(await fetch(`${server.url}${past.path}`))).toMatch(/has expired: ask POST \/api\/files\/:id\/download-url for a new one/)
    const elsewhere = createDownloadLinks({ secret: 'x'.repeat(32), expirySeconds: 60 }).sign({ id, ownerId: 'alice' })
    expect(await refused(await fetch(`${server.url}${elsewhere.path}`))).toMatch(/not valid/)
    // The owner is part of what is signed: the server's key, but for bob.
    const forBob = createDownloadLinks({ secret: SECRET, expirySeconds: 60 }).sign({ id, ownerId: 'bob' })
    await refused(await fetch(`${server.url}${forBob.path}`))
    // The format is what the README says: HMAC-SHA256 of id.owner.expires, base64url.
    const expires = Math.floor(Date.now() / 1000) + 60
    const signature = createHmac('sha256', SECRET).update(`${id}.alice.${expires}`).digest('base64url')
    expect((await fetch(`${server.url}/api/files/${id}/content?expires=${expires}&signature=${signature}`)).status).toBe(200)
  })

  it('gives links only to the owner of a finished file, and a deleted file link stops working', async () => {
    const id = await upload(alice, randomData(1000))
    await expectJsonError(await askLink(id, bob), 404, 'ERR_FILE_NOT_FOUND')
    await expectJsonError(await askLink(id, {}), 401, 'ERR_UNAUTHENTICATED')
    await expectJsonError(await askLink('0f0e0d0c-0b0a-4908-8706-050403020100', alice), 404, 'ERR_FILE_NOT_FOUND')
    const unfinished = await fetch(`${server.url}/files`, {
      method: 'POST',
      headers: { ...alice, 'Tus-Resumable': '1.0.0', 'Upload-Length': '10', 'Upload-Metadata': `filename ${Buffer.from('half.csv').toString('base64')}` },
    })
    expect(unfinished.status).toBe(201)
    const halfId = unfinished.headers.get('location')!.split('/').pop()!
    await expectJsonError(await askLink(halfId, alice), 409, 'ERR_UPLOAD_INCOMPLETE')

    const { url } = await linkFor(id, alice)
    expect((await fetch(`${server.url}/api/files/${id}`, { method: 'DELETE', headers: alice })).status).toBe(204)
    expect(await refused(await fetch(`${server.url}${url}`))).toMatch(/the file was deleted/)
  })
})
