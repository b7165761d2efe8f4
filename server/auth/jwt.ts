/**
 * Bearer tokens -> the subject who is calling. All JWT crypto is jose's; this file decides
 * which keys and algorithms a token may use and turns every refusal into an AuthError
 * whose message says what was wrong (never echoing the token).
 */
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify } from 'jose'
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose'
import { AuthError } from './principal.ts'

export type JwtSettings = {
  /** HS256 shared secret (JWT_SECRET), used as its UTF-8 bytes; at least 32 bytes. */
  secret?: string
  /** Where RS256/ES256/PS256/EdDSA public keys are published (JWT_JWKS_URL). */
  jwksUrl?: string
  /** When set, the token's `iss` must equal it. */
  issuer?: string
  /** When set, the token's `aud` must be or contain it. */
  audience?: string
  /** Skew allowed between the issuer's clock and ours for exp/nbf; default 30 s. */
  clockToleranceSeconds?: number
  /** Used to fetch the JWKS; the global fetch by default. */
  fetch?: typeof fetch
  /** How long after a JWKS fetch an unknown kid is refused without refetching; default 5 s. */
  jwksCooldownMs?: number
  /** How long a JWKS fetch may take before the request fails with 503; default 3 s. */
  jwksTimeoutMs?: number
}

/**
 * The JWKS could not be fetched or used: an outage on our side or the issuer's, not a bad
 * credential. Deliberately not an AuthError, so the caller answers 503 (clients retry)
 * rather than 401 (clients give up and ask the user to sign in again).
 */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError'
}

// Each key kind gets its own list: a token is only ever verified with the algorithms of
// the key it will meet, so an HS256 token can never be checked against a JWKS public key.
const HMAC_ALGORITHMS = ['HS256']
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA']

// RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for
// "HS256") or larger MUST be used with this algorithm."
const MIN_SECRET_BYTES = 32
// The subject becomes the owner id stored on every file.
const MAX_SUBJECT_LENGTH = 200
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30
// jose's default cooldown is 30 s: a key rotated in by the issuer would be refused for that
// long. 5 s still keeps a flood of made-up kids from turning into a flood of fetches.
const DEFAULT_JWKS_COOLDOWN_MS = 5_000
// A request waits on this fetch; past a few seconds a 503 the client retries is better.
const DEFAULT_JWKS_TIMEOUT_MS = 3_000

const NOT_A_JWT = 'the Authorization header does not hold a JWT'

export function createJwtVerifier(settings: JwtSettings): (token: string) => Promise<{ subject: string }> {
  const secret = settings.secret === undefined ? undefined : secretKey(settings.secret)
  const jwks = settings.jwksUrl === undefined ? undefined : remoteKeys(settings.jwksUrl, settings)
  if (secret === undefined && jwks === undefined) {
    throw new Error('JWT verification needs a secret (JWT_SECRET) or a JWKS URL (JWT_JWKS_URL)')
  }
  const tolerance = settings.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new Error(`the JWT clock tolerance must be a number of seconds >= 0, not ${tolerance}`)
  }
  const options: JWTVerifyOptions = { clockTolerance: tolerance, requiredClaims: ['sub', 'exp'] }
  if (settings.issuer !== undefined) options.issuer = settings.issuer
  if (settings.audience !== undefined) options.audience = settings.audience

  // The header's alg picks the key kind; jwtVerify then re-checks it against that kind's list.
  const verify = async (token: string, alg: string) => {
    if (secret !== undefined && HMAC_ALGORITHMS.includes(alg)) {
      return jwtVerify(token, secret, { ...options, algorithms: HMAC_ALGORITHMS })
    }
    if (jwks !== undefined && JWKS_ALGORITHMS.includes(alg)) {
      return jwtVerify(token, jwks, { ...options, algorithms: JWKS_ALGORITHMS })
    }
    throw new AuthError(algorithmRefused(alg))
  }

  return async (token) => {
    const { alg, kid } = readHeader(token)
    const { payload } = await verify(token, alg).catch((error: unknown) => {
      throw translate(error, settings, kid !== undefined)
    })
    return { subject: readSubject(payload) }
  }
}

function secretKey(secret: string): Uint8Array {
  const bytes = new TextEncoder().encode(secret)
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new Error(
      `the JWT secret must be at least ${MIN_SECRET_BYTES} bytes for HS256 (it has ${bytes.byteLength}); ` +
        'generate one with `openssl rand -base64 48`',
    )
  }
  return bytes
}

function remoteKeys(jwksUrl: string, settings: JwtSettings): JWTVerifyGetKey {
  let url: URL
  try {
    url = new URL(jwksUrl)
  } catch {
    throw new Error(`the JWKS URL "${jwksUrl}" is not a valid URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`the JWKS URL "${jwksUrl}" must use https: or http:`)
  }
  const keys = createRemoteJWKSet(url, {
    cooldownDuration: settings.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
    timeoutDuration: settings.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
    ...(settings.fetch ? { [customFetch]: settings.fetch } : {}),
  })
  // Separates "the token names a key we do not have" (the caller's problem: 401) from
  // every failure to fetch or read the key set (ours or the issuer's: 503).
  return async (header, token) => {
    try {
      return await keys(header, token)
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error
      const reason = error instanceof Error ? ` (${error.message})` : ''
      throw new JwksUnavailableError(`the JWKS at ${url.href} could not be fetched${reason}`, { cause: error })
    }
  }
}

function readHeader(token: string): { alg: string; kid: string | undefined } {
  let header
  try {
    header = decodeProtectedHeader(token)
  } catch {
    throw new AuthError(NOT_A_JWT)
  }
  // RFC 7515 §4.1.1: alg "MUST be present"; without it this is no JWS at all.
  if (typeof header.alg !== 'string') throw new AuthError(NOT_A_JWT)
  return { alg: header.alg, kid: typeof header.kid === 'string' ? header.kid : undefined }
}

// The alg comes from the caller; quote it only when it looks like an algorithm name.
function algorithmRefused(alg: string): string {
  const named = /^[A-Za-z0-9+-]{1,20}$/.test(alg) ? `"${alg}"` : 'an unknown algorithm'
  return `tokens signed with ${named} are not accepted`
}

function readSubject(payload: JWTPayload): string {
  const { sub } = payload
  if (typeof sub !== 'string' || sub === '') throw new AuthError('the token has no subject (sub)')
  // Counted in code points, as a Postgres varchar counts characters.
  if ([...sub].length > MAX_SUBJECT_LENGTH) {
    throw new AuthError(`the token's subject (sub) is longer than ${MAX_SUBJECT_LENGTH} characters`)
  }
  return sub
}

/** jose's errors -> what the caller was told; anything unrecognised is rethrown (a 500). */
function translate(error: unknown, settings: JwtSettings, hasKid: boolean): unknown {
  if (error instanceof AuthError || error instanceof JwksUnavailableError) return error
  if (error instanceof errors.JWTExpired) return new AuthError('the token has expired', { cause: error })
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new AuthError(claimRefused(error, settings), { cause: error })
  }
  const message = joseMessage(error, hasKid)
  return message === undefined ? error : new AuthError(message, { cause: error })
}

function claimRefused(error: InstanceType<typeof errors.JWTClaimValidationFailed>, settings: JwtSettings): string {
  const { claim, reason } = error
  if (claim === 'sub') return 'the token has no subject (sub)'
  if (claim === 'aud') return `the token's audience is not "${settings.audience}"`
  if (claim === 'iss') return `the token's issuer is not "${settings.issuer}"`
  if (claim === 'nbf' && reason === 'check_failed') return 'the token is not valid yet (nbf)'
  // Claim names here are jose's own (exp, nbf, iat, typ), never taken from the token.
  return `the token's "${claim}" claim is not valid`
}

function joseMessage(error: unknown, hasKid: boolean): string | undefined {
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify"
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return NOT_A_JWT
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted"
  if (error instanceof errors.JWKSNoMatchingKey) {
    return hasKid ? "no key in the JWKS matches the token's key id" : 'no key in the JWKS matches the token, which names no key id (kid)'
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return 'the token names no key id (kid) and several keys in the JWKS could match it'
  }
  if (error instanceof errors.JOSENotSupported) return 'the token uses a JOSE feature this server does not support'
  return undefined
}
