import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CompactSign, SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair } from 'jose'
import type { CryptoKey, JWK, JWTPayload } from 'jose'
import { createJwtVerifier, JwksUnavailableError } from './jwt.ts'
import type { JwtSettings } from './jwt.ts'
import { AuthError } from './principal.ts'

const SECRET = 'correct-horse-battery-staple-0123456789'
const ISSUER = 'https://issuer.example'
const AUDIENCE = 'filedock'

type KeyPair = { alg: string; kid: string; privateKey: CryptoKey; jwk: JWK }

async function keyPair(alg: string, kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

function sign(key: KeyPair | Uint8Array, claims: JWTPayload = { sub: 'alice' }, header: object = {}): Promise<string> {
  const jwt = new SignJWT(claims).setIssuedAt()
  if (!('exp' in claims)) jwt.setExpirationTime('5m')
  if (key instanceof Uint8Array) return jwt.setProtectedHeader({ alg: 'HS256', ...header }).sign(key)
  return jwt.setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey)
}

/** A token jose would refuse to sign: header.payload.signature, base64url-encoded by hand. */
function handMade(header: object, payload: object, signature = ''): string {
  const part = (value: object) => base64url.encode(JSON.stringify(value))
  return `${part(header)}.${part(payload)}.${signature}`
}

const hs = (claims?: JWTPayload) => sign(new TextEncoder().encode(SECRET), claims)
const seconds = (offset: number) => Math.floor(Date.now() / 1000) + offset

/** Fails the test unless `token` is refused with an AuthError saying exactly `message`. */
async function expectRefused(verify: (token: string) => Promise<unknown>, token: string, message: string) {
  const error = await verify(token).then(() => undefined, (caught: unknown) => caught)
  expect(error).toBeInstanceOf(AuthError)
  expect((error as Error).message).toBe(message)
  if (token.length > 3) expect((error as Error).message).not.toContain(token)
}

// The JWKS the issuer publishes; tests replace `published.keys` to rotate keys.
const published: { keys: JWK[]; status: number } = { keys: [], status: 200 }
let jwksServer: Server
let jwksUrl: string
let hangingUrl: string
let rsa: KeyPair
let ec: KeyPair

beforeAll(async () => {
  jwksServer = createServer((req, res) => {
    if (req.url === '/hang') return // never answers: the verifier's timeout must fire
    res.writeHead(published.status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: published.keys }))
  })
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`
  jwksUrl = `${base}/.well-known/jwks.json`
  hangingUrl = `${base}/hang`
  rsa = await keyPair('RS256', 'rsa-1')
  ec = await keyPair('ES256', 'ec-1')
})

afterAll(async () => {
  jwksServer.closeAllConnections()
  await new Promise((resolve) => jwksServer.close(resolve))
})

const withSecret = (extra: JwtSettings = {}) => createJwtVerifier({ secret: SECRET, ...extra })
const withJwks = (keys: KeyPair[], extra: JwtSettings = {}) => {
  published.keys = keys.map((key) => key.jwk)
  published.status = 200
  return createJwtVerifier({ jwksUrl, ...extra })
}

describe('accepted tokens', () => {
  it('returns the subject of an HS256 token signed with the secret', async () => {
    await expect(withSecret()(await hs({ sub: 'alice' }))).resolves.toEqual({ subject: 'alice' })
  })

  it.each(['RS256', 'ES256', 'PS256', 'EdDSA'])('returns the subject of a %s token whose key is in the JWKS', async (alg) => {
    const key = await keyPair(alg, `${alg}-key`)
    const verify = withJwks([rsa, key])
    await expect(verify(await sign(key, { sub: 'bob' }))).resolves.toEqual({ subject: 'bob' })
  })

  it('accepts both kinds when a secret and a JWKS are configured, by the token alg', async () => {
    published.keys = [ec.jwk]
    const verify = createJwtVerifier({ secret: SECRET, jwksUrl })
    await expect(verify(await hs({ sub: 'hmac-user' }))).resolves.toEqual({ subject: 'hmac-user' })
    await expect(verify(await sign(ec, { sub: 'ec-user' }))).resolves.toEqual({ subject: 'ec-user' })
  })

  it('accepts a matching issuer and audience, and a subject of exactly 200 characters', async () => {
    const verify = withSecret({ issuer: ISSUER, audience: AUDIENCE })
    // Characters, not UTF-16 units: each of these is two units.
    const sub = '𝒜'.repeat(200)
    await expect(verify(await hs({ sub, iss: ISSUER, aud: [AUDIENCE, 'other'] }))).resolves.toEqual({ subject: sub })
  })

  it('forgives clock skew within the tolerance but not beyond it', async () => {
    const token = await hs({ sub: 'alice', exp: seconds(-10) })
    await expect(withSecret()(token)).resolves.toEqual({ subject: 'alice' })
    await expectRefused(withSecret({ clockToleranceSeconds: 0 }), token, 'the token has expired')
  })
})

describe('refused tokens', () => {
  it('refuses an expired token', async () => {
    await expectRefused(withSecret(), await hs({ sub: 'alice', exp: seconds(-3600) }), 'the token has expired')
  })

  it('refuses a token whose nbf is in the future', async () => {
    await expectRefused(withSecret(), await hs({ sub: 'alice', nbf: seconds(3600) }), 'the token is not valid yet (nbf)')
  })

  it('refuses an HS256 token signed with another secret', async () => {
    const forged = await sign(new TextEncoder().encode('another-secret-that-is-long-enough-000'))
    await expectRefused(withSecret(), forged, "the token's signature does not verify")
  })

  it('refuses a token signed by another key that claims a published kid', async () => {
    const impostor = await keyPair('RS256', rsa.kid)
    await expectRefused(withJwks([rsa]), await sign(impostor), "the token's signature does not verify")
  })

  it('refuses an unsigned token (alg none) whichever keys are configured', async () => {
    const unsigned = handMade({ alg: 'none', typ: 'JWT' }, { sub: 'alice', exp: seconds(300) })
    const message = 'tokens signed with "none" are not accepted'
    await expectRefused(withSecret(), unsigned, message)
    await expectRefused(withJwks([rsa]), unsigned, message)
  })

  it('refuses an HS256 token keyed with the published RSA public key (algorithm confusion)', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true })
    const pem = new TextEncoder().encode(await exportSPKI(publicKey))
    const confused = await sign(pem)
    await expectRefused(withJwks([rsa]), confused, 'tokens signed with "HS256" are not accepted')
    await expectRefused(createJwtVerifier({ secret: SECRET, jwksUrl }), confused, "the token's signature does not verify")
  })

  it('refuses an RS256 token when only a secret is configured', async () => {
    await expectRefused(withSecret(), await sign(rsa), 'tokens signed with "RS256" are not accepted')
  })

  it('does not quote an alg header that is not an algorithm name', async () => {
    const token = handMade({ alg: '<script>alert(1)</script>' }, { sub: 'alice' }, 'c2lnbmF0dXJl')
    await expectRefused(withSecret(), token, 'tokens signed with an unknown algorithm are not accepted')
  })

  it('refuses a token for another audience, or with none when one is required', async () => {
    const verify = withSecret({ audience: AUDIENCE })
    const message = `the token's audience is not "filedock"`
    await expectRefused(verify, await hs({ sub: 'alice', aud: 'someone-else' }), message)
    await expectRefused(verify, await hs({ sub: 'alice' }), message)
  })

  it('refuses a token from another issuer', async () => {
    const token = await hs({ sub: 'alice', iss: 'https://evil.example' })
    await expectRefused(withSecret({ issuer: ISSUER }), token, `the token's issuer is not "https://issuer.example"`)
  })

  it.each(['', 'abc', 'a.b.c', 'Bearer', 'x.y', 'a.b.c.d.e.f'])('refuses %j as not a JWT', async (garbage) => {
    await expectRefused(withSecret(), garbage, 'the Authorization header does not hold a JWT')
  })

  it('refuses a signed token whose payload is not a JSON object', async () => {
    const key = new TextEncoder().encode(SECRET)
    const token = await new CompactSign(new TextEncoder().encode('"just a string"')).setProtectedHeader({ alg: 'HS256' }).sign(key)
    await expectRefused(withSecret(), token, 'the Authorization header does not hold a JWT')
  })

  it.each<[string, JWTPayload]>([
    ['missing', {}],
    ['empty', { sub: '' }],
    ['a number', { sub: 42 } as unknown as JWTPayload],
  ])('refuses a token whose sub is %s', async (_, claims) => {
    await expectRefused(withSecret(), await hs(claims), 'the token has no subject (sub)')
  })

  it('refuses a subject longer than 200 characters', async () => {
    const token = await hs({ sub: 'a'.repeat(201) })
    await expectRefused(withSecret(), token, "the token's subject (sub) is longer than 200 characters")
  })

  it('refuses a token whose kid is not in the JWKS', async () => {
    const stranger = await keyPair('ES256', 'not-published')
    await expectRefused(withJwks([rsa, ec]), await sign(stranger), "no key in the JWKS matches the token's key id")
  })

  it('asks for a kid when several published keys could verify the token', async () => {
    const twin = await keyPair('RS256', 'rsa-twin')
    const token = await sign(rsa, { sub: 'alice' }, { kid: undefined })
    const message = 'the token names no key id (kid) and several keys in the JWKS could match it'
    await expectRefused(withJwks([rsa, twin]), token, message)
  })
})

describe('JWKS fetching', () => {
  it('picks up a rotated-in key once the cooldown has passed, and drops the retired one', async () => {
    // Keys made first: RSA key generation can take longer than the cooldown.
    const next = await keyPair('RS256', 'rsa-2')
    const oldToken = await sign(rsa, { sub: 'before' })
    const newToken = await sign(next, { sub: 'after' })
    const verify = withJwks([rsa], { jwksCooldownMs: 500 })
    await expect(verify(oldToken)).resolves.toEqual({ subject: 'before' })

    published.keys = [next.jwk]
    // Within the cooldown the cached set is trusted: the new kid is not known yet.
    await expectRefused(verify, newToken, "no key in the JWKS matches the token's key id")
    await new Promise((resolve) => setTimeout(resolve, 600))
    await expect(verify(newToken)).resolves.toEqual({ subject: 'after' })
    await expectRefused(verify, oldToken, "no key in the JWKS matches the token's key id")
  })

  it('fetches the JWKS through the fetch it was given', async () => {
    const urls: string[] = []
    const counting: typeof fetch = (input, init) => {
      urls.push(String(input))
      return fetch(input, init)
    }
    const verify = withJwks([ec], { fetch: counting })
    await expect(verify(await sign(ec))).resolves.toEqual({ subject: 'alice' })
    expect(urls).toEqual([jwksUrl])
  })

  /** Fails unless verifying is refused as an outage (a 503), never as a bad token (a 401). */
  async function expectOutage(settings: JwtSettings, url: string) {
    const error = await createJwtVerifier(settings)(await sign(rsa)).then(() => undefined, (caught: unknown) => caught)
    expect(error).toBeInstanceOf(JwksUnavailableError)
    expect(error).not.toBeInstanceOf(AuthError)
    expect((error as Error).message).toMatch(new RegExp(`^the JWKS at ${url.replaceAll('.', '\\.')} could not be fetched`))
  }

  it('reports a JWKS server that is down as an outage, not a refused token', async () => {
    const gone = createServer()
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/jwks.json`
    await new Promise((resolve) => gone.close(resolve))
    await expectOutage({ jwksUrl: url }, url)
  })

  it('reports a JWKS answering 500 as an outage', async () => {
    published.status = 500
    await expectOutage({ jwksUrl }, jwksUrl)
    published.status = 200
  })

  it('gives up on a JWKS that does not answer within the timeout', async () => {
    const started = Date.now()
    await expectOutage({ jwksUrl: hangingUrl, jwksTimeoutMs: 200 }, hangingUrl)
    expect(Date.now() - started).toBeLessThan(2_000)
  })
})

describe('settings', () => {
  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => createJwtVerifier({ secret: 'x'.repeat(31) })).toThrow(
      'the JWT secret must be at least 32 bytes for HS256 (it has 31)',
    )
  })

  it('counts the secret in UTF-8 bytes, not characters', () => {
    expect(() => createJwtVerifier({ secret: 'é'.repeat(16) })).not.toThrow()
  })

  it('refuses to build a verifier with no way to check tokens', () => {
    expect(() => createJwtVerifier({ issuer: ISSUER })).toThrow('JWT verification needs a secret')
  })

  it('refuses a JWKS URL that is not an http(s) URL', () => {
    expect(() => createJwtVerifier({ jwksUrl: 'not a url' })).toThrow('the JWKS URL "not a url" is not a valid URL')
    expect(() => createJwtVerifier({ jwksUrl: 'file:///etc/jwks.json' })).toThrow('must use https: or http:')
  })
})
