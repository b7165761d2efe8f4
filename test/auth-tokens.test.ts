/**
 * Tokens and keys against a running server that takes RS256/ES256 tokens
 * from a JWKS (served here by a local HTTP server, with a key rotation) and
 * API keys: every bad credential is a 401 with a message saying what was
 * wrong, on the tus endpoint and the REST API alike.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../server/auth/api-keys.ts'
import { revokeApiKey } from '../server/db/api-key.repository.ts'
import { backends } from './helpers/backends.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { TUS } from './helpers/tus.ts'

const [backend] = backends()
const ISSUER = 'https://id.example.test'
const AUDIENCE = 'filedock'

type Key = { kid: string; privateKey: CryptoKey; jwk: JWK }

async function makeKey(kid: string, alg: 'RS256' | 'ES256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

function sign(key: Key, alg: string, claims: { sub?: string; aud?: string; iss?: string; exp?: number | string; nbf?: number | string } = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg, kid: key.kid }).setIssuedAt()
  if (claims.sub !== '') jwt.setSubject(claims.sub ?? 'carol')
  jwt.setAudience(claims.aud ?? AUDIENCE).setIssuer(claims.iss ?? ISSUER).setExpirationTime(claims.exp ?? '5m')
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf)
  return jwt.sign(key.privateKey)
}

describe('tokens and API keys at the door', () => {
  let jwks: http.Server
  let served: JWK[] = []
  let server: TestServer
  let rsa: Key
  let ec: Key
  beforeAll(async () => {
    rsa = await makeKey('rsa-1', 'RS256')
    ec = await makeKey('ec-1', 'ES256')
    served = [rsa.jwk, ec.jwk]
    jwks = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ keys: served }))
    })
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`
    server = await startTestServer(backend as NonNullable<typeof backend>, { JWT_JWKS_URL: url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, WORKER_CONCURRENCY: '0' })
  })
  afterAll(async () => {
    await server?.stop()
    jwks?.closeAllConnections()
    await new Promise((resolve) => jwks?.close(resolve))
  })

  async function refused(headers: Record<string, string>, message: RegExp): Promise<void> {
    const rest = await fetch(`${server.url}/api/files`, { headers })
    expect(rest.status).toBe(401)
    const body = (await rest.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('ERR_UNAUTHENTICATED')
    expect(body.error.message).toMatch(message)
    const tus = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, ...headers, 'Upload-Length': '1' } })
    expect(tus.status).toBe(401)
    expect(await tus.text()).toMatch(new RegExp(`^ERR_UNAUTHENTICATED: .*${message.source}`))
  }

  it('lets in RS256 and ES256 tokens from the JWKS', async () => {
    for (const [key, alg] of [[rsa, 'RS256'], [ec, 'ES256']] as const) {
      const res = await fetch(`${server.url}/api/files`, { headers: { Authorization: `Bearer ${await sign(key, alg)}` } })
      expect(res.status).toBe(200)
    }
  })

  it('refuses expired, not-yet-valid, wrongly signed, unsigned, wrong-audience and wrong-issuer tokens, each saying why', async () => {
    const now = Math.floor(Date.now() / 1000)
    await refused({ Authorization: `Bearer ${await sign(rsa, 'RS256', { exp: now - 3600 })}` }, /expired/)
    await refused({ Authorization: `Bearer ${await sign(rsa, 'RS256', { nbf: now + 3600 })}` }, /not valid yet/)
    const stranger = await makeKey('rsa-1', 'RS256') // same kid, another key
    await refused({ Authorization: `Bearer ${await sign(stranger, 'RS256')}` }, /signature/)
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')
    const payload = Buffer.from(JSON.stringify({ sub: 'mallory', aud: AUDIENCE, iss: ISSUER, exp: now + 600 })).toString('base64url')
    await refused({ Authorization: `Bearer ${header}.${payload}.` }, /"none"/)
    await refused({ Authorization: `Bearer ${await sign(rsa, 'RS256', { aud: 'someone-else' })}` }, /audience/)
    await refused({ Authorization: `Bearer ${await sign(rsa, 'RS256', { iss: 'https://evil.example' })}` }, /issuer/)
  })

  it('refuses garbage headers and missing credentials', async () => {
    await refused({ Authorization: 'Bearer abc' }, /JWT/)
    await refused({ Authorization: 'Basic dXNlcjpwYXNz' }, /Bearer/)
    await refused({}, /authentication required/)
    await refused({ 'X-API-Key': 'not-a-key' }, /does not hold a filedock API key/)
  })

  it('refuses a revoked API key', async () => {
    const { id, key } = await createApiKey(server.db, { userId: 'dave' })
    expect((await fetch(`${server.url}/api/files`, { headers: { 'X-API-Key': key } })).status).toBe(200)
    expect(await revokeApiKey(server.db, id)).toBe(true)
    await refused({ 'X-API-Key': key }, /not valid or was revoked/)
  })

  it('takes a rotated key from the JWKS without a restart', async () => {
    const next = await makeKey('rsa-2', 'RS256')
    served = [next.jwk]
    await new Promise((r) => setTimeout(r, 5500)) // past the verifier's refetch cooldown
    const res = await fetch(`${server.url}/api/files`, { headers: { Authorization: `Bearer ${await sign(next, 'RS256')}` } })
    expect(res.status).toBe(200)
  })
})
