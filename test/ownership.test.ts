/**
 * Who may touch which file, against a running server that requires
 * authentication: two users, every tus method and every REST route, each
 * trying the other's ids. Zero successes, and no existence leak: the answer
 * for someone else's file is the answer for an id that never existed.
 */
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../server/auth/api-keys.ts'
import { backends } from './helpers/backends.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { b64, sha256, TUS } from './helpers/tus.ts'

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256'
const [backend] = backends()

type Answer = { status: number; code: string | undefined }

describe('ownership', () => {
  let server: TestServer
  let alice: Record<string, string>
  let bob: Record<string, string>
  let aliceUnfinished: string
  let aliceFinished: string
  const body = Buffer.from('id,value\n1,2\n')

  async function answer(url: string, init: RequestInit): Promise<Answer> {
    const res = await fetch(url, init)
    const text = await res.text()
    const code = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : text.split(':')[0]
    return { status: res.status, code: code || undefined }
  }

  async function create(who: Record<string, string>, length: number, meta: string): Promise<string> {
    const res = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, ...who, 'Upload-Length': String(length), 'Upload-Metadata': meta } })
    expect(res.status).toBe(201)
    return (res.headers.get('location') as string).split('/').pop() as string
  }

  async function patch(who: Record<string, string>, id: string, offset: number, data: Buffer): Promise<number> {
    const res = await fetch(`${server.url}/files/${id}`, { method: 'PATCH', headers: { ...TUS, ...who, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body: data as unknown as BodyInit })
    await res.arrayBuffer()
    return res.status
  }

  beforeAll(async () => {
    server = await startTestServer(backend as NonNullable<typeof backend>, { AUTH: 'required', JWT_SECRET: SECRET })
    alice = { 'X-API-Key': (await createApiKey(server.db, { userId: 'alice' })).key }
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setExpirationTime('10m').sign(new TextEncoder().encode(SECRET))
    bob = { Authorization: `Bearer ${token}` }
    aliceUnfinished = await create(alice, 100, `filename ${b64('half.csv')},conversationId ${b64('c1')}`)
    expect(await patch(alice, aliceUnfinished, 0, body)).toBe(204)
    aliceFinished = await create(alice, body.length, `filename ${b64('whole.csv')},conversationId ${b64('c2')}`)
    expect(await patch(alice, aliceFinished, 0, body)).toBe(204)
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** Every way to reach a file by id, as `who`. */
  function attempts(who: Record<string, string>, id: string): [string, () => Promise<Answer>][] {
    const base = server.url
    return [
      ['tus HEAD', () => answer(`${base}/files/${id}`, { method: 'HEAD', headers: { ...TUS, ...who } })],
      ['tus PATCH', () => answer(`${base}/files/${id}`, { method: 'PATCH', headers: { ...TUS, ...who, 'Upload-Offset': String(body.length), 'Content-Type': 'application/offset+octet-stream' }, body: Buffer.from('x') as unknown as BodyInit })],
      ['tus DELETE', () => answer(`${base}/files/${id}`, { method: 'DELETE', headers: { ...TUS, ...who } })],
      ['tus DELETE via X-HTTP-Method-Override', () => answer(`${base}/files/${id}`, { method: 'POST', headers: { ...TUS, ...who, 'X-HTTP-Method-Override': 'DELETE' } })],
      ['tus PATCH with a wrong Content-Type', () => answer(`${base}/files/${id}`, { method: 'PATCH', headers: { ...TUS, ...who, 'Upload-Offset': '0', 'Content-Type': 'text/plain' } })],
      ['tus PATCH without Upload-Offset', () => answer(`${base}/files/${id}`, { method: 'PATCH', headers: { ...TUS, ...who, 'Content-Type': 'application/offset+octet-stream' } })],
      ['tus PUT (not a tus method)', () => answer(`${base}/files/${id}`, { method: 'PUT', headers: { ...TUS, ...who } })],
      ['GET /files/:id', () => answer(`${base}/files/${id}`, { headers: who })],
      ['GET /api/files/:id', () => answer(`${base}/api/files/${id}`, { headers: who })],
      ['GET /api/files/:id?wait=1', () => answer(`${base}/api/files/${id}?wait=1`, { headers: who })],
      ['GET /api/files/:id/content', () => answer(`${base}/api/files/${id}/content`, { headers: who })],
      ['GET /api/files/:id/text', () => answer(`${base}/api/files/${id}/text`, { headers: who })],
      ['GET /api/files/:id/events', () => answer(`${base}/api/files/${id}/events`, { headers: who })],
      ['DELETE /api/files/:id', () => answer(`${base}/api/files/${id}`, { method: 'DELETE', headers: who })],
      ['POST /api/files/:id/download-url', () => answer(`${base}/api/files/${id}/download-url`, { method: 'POST', headers: who })],
      ['GET /api/files/multipart/:id/parts/1', () => answer(`${base}/api/files/multipart/${id}/parts/1?uploadId=u1`, { headers: who })],
      ['GET /api/files/multipart/:id/parts', () => answer(`${base}/api/files/multipart/${id}/parts?uploadId=u1`, { headers: who })],
      ['POST /api/files/multipart/:id/complete', () => answer(`${base}/api/files/multipart/${id}/complete`, { method: 'POST', headers: { ...who, 'Content-Type': 'application/json' }, body: '{"uploadId":"u1"}' })],
      ['DELETE /api/files/multipart/:id', () => answer(`${base}/api/files/multipart/${id}`, { method: 'DELETE', headers: who })],
    ]
  }

  it("answers every route on the other user's files exactly as on an id that does not exist", async () => {
    const unknown = randomUUID()
    for (const [who, victim] of [[bob, aliceUnfinished], [bob, aliceFinished]] as const) {
      const theirs = attempts(who, victim)
      const nobody = attempts(who, unknown)
      for (let i = 0; i < theirs.length; i++) {
        const [name, tryTheirs] = theirs[i] as [string, () => Promise<Answer>]
        const got = await tryTheirs()
        const baseline = await (nobody[i] as [string, () => Promise<Answer>])[1]()
        expect({ route: name, ...got }).toEqual({ route: name, ...baseline })
        expect(got.status, name).toBe(404)
      }
    }
  })

  it("leaves the owner's files untouched and lists each user's files only", async () => {
    const head = await fetch(`${server.url}/files/${aliceUnfinished}`, { method: 'HEAD', headers: { ...TUS, ...alice } })
    expect(head.status).toBe(200)
    expect(head.headers.get('upload-offset')).toBe(String(body.length))
    const content = await fetch(`${server.url}/api/files/${aliceFinished}/content`, { headers: alice })
    expect(content.status).toBe(200)
    expect(sha256(new Uint8Array(await content.arrayBuffer()))).toBe(sha256(body))
    const bobs = (await (await fetch(`${server.url}/api/files`, { headers: bob })).json()) as { files: unknown[] }
    expect(bobs.files).toEqual([])
    const alices = (await (await fetch(`${server.url}/api/files`, { headers: alice })).json()) as { files: { id: string }[] }
    expect(alices.files.map((f) => f.id).sort()).toEqual([aliceUnfinished, aliceFinished].sort())
  })

  it('filters the listing by conversationId', async () => {
    const list = (await (await fetch(`${server.url}/api/files?conversationId=c2`, { headers: alice })).json()) as { files: { id: string; conversationId: string }[] }
    expect(list.files.map((f) => [f.id, f.conversationId])).toEqual([[aliceFinished, 'c2']])
    expect((await fetch(`${server.url}/api/files?conversationId=c2`, { headers: bob }).then((r) => r.json())) as unknown).toEqual({ files: [], nextCursor: null })
  })

  it('refuses requests without credentials with 401 and a message, but not OPTIONS or health', async () => {
    const post = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': '1' } })
    expect(post.status).toBe(401)
    expect(post.headers.get('www-authenticate')).toBe('Bearer')
    expect(await post.text()).toMatch(/^ERR_UNAUTHENTICATED: authentication required/)
    const list = await fetch(`${server.url}/api/files`)
    expect(list.status).toBe(401)
    expect(await list.json()).toEqual({ error: { code: 'ERR_UNAUTHENTICATED', message: expect.stringMatching(/Bearer|X-API-Key/) } })
    expect((await fetch(`${server.url}/files`, { method: 'OPTIONS' })).status).toBe(204)
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })

  it('refuses a bad API key and a bad token with 401', async () => {
    const badKey = await fetch(`${server.url}/api/files`, { headers: { 'X-API-Key': 'fdk_nope_nope' } })
    expect(badKey.status).toBe(401)
    const badToken = await fetch(`${server.url}/api/files`, { headers: { Authorization: 'Bearer not.a.jwt' } })
    expect(badToken.status).toBe(401)
    const both = await fetch(`${server.url}/api/files`, { headers: { ...alice, ...bob } })
    expect(both.status).toBe(401)
  })
})
