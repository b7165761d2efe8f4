/**
 * Turns a request's credentials into a Principal, once per request:
 * `Authorization: Bearer <JWT>` or `X-API-Key: <key>` when authentication is
 * required; the one local user when it is not (AUTH=local on loopback, or
 * AUTH=none on purpose). Refusals are AppErrors: 401 with what was wrong,
 * or 503 when the identity provider's keys cannot be fetched.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { AuthConfig } from '../config.ts'
import { AppError } from '../errors.ts'
import { JwksUnavailableError } from './jwt.ts'
import { AuthError, LOCAL_USER, type Principal } from './principal.ts'

export type AuthenticateDeps = {
  mode: AuthConfig['mode']
  /** Verifies a Bearer JWT (absent: bearer tokens are refused). */
  verifyJwt?: (token: string) => Promise<{ subject: string }>
  /** Verifies an X-API-Key. */
  verifyApiKey: (key: string) => Promise<{ userId: string }>
}

export type Authenticate = (req: IncomingMessage) => Promise<Principal>

const LOCAL: Principal = Object.freeze({ userId: LOCAL_USER, via: 'local' })
const principals = new WeakMap<IncomingMessage, Principal>()

/** The principal `authenticate` found for this request (the tus handlers and routes read it). */
export function principalOf(req: IncomingMessage): Principal {
  const principal = principals.get(req)
  if (!principal) throw new Error('principalOf: the request was not authenticated first')
  return principal
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  if (Array.isArray(value)) throw new AuthError(`send one ${name} header, not ${value.length}`)
  return value
}

async function identify(deps: AuthenticateDeps, headers: IncomingHttpHeaders): Promise<Principal> {
  if (deps.mode !== 'required') return LOCAL
  const authorization = single(headers, 'authorization')
  const apiKey = single(headers, 'x-api-key')
  if (authorization !== undefined && apiKey !== undefined) throw new AuthError('send either Authorization or X-API-Key, not both')
  if (apiKey !== undefined) return { userId: (await deps.verifyApiKey(apiKey.trim())).userId, via: 'api_key' }
  if (authorization === undefined) throw new AuthError('authentication required: send Authorization: Bearer <JWT> or X-API-Key: <key>')
  const match = /^Bearer +(\S+)\s*$/i.exec(authorization)
  if (!match?.[1]) throw new AuthError('the Authorization header must be "Bearer <JWT>"')
  if (!deps.verifyJwt) throw new AuthError('this server does not accept bearer tokens: use X-API-Key')
  return { userId: (await deps.verifyJwt(match[1])).subject, via: 'jwt' }
}

export function createAuthenticate(deps: AuthenticateDeps): Authenticate {
  return async (req) => {
    const known = principals.get(req)
    if (known) return known
    let principal: Principal
    try {
      principal = await identify(deps, req.headers)
    } catch (error) {
      if (error instanceof AuthError) throw new AppError('ERR_UNAUTHENTICATED', { message: error.message, cause: error, headers: { 'WWW-Authenticate': 'Bearer' } })
      if (error instanceof JwksUnavailableError) throw new AppError('ERR_AUTH_UNAVAILABLE', { cause: error })
      throw error
    }
    principals.set(req, principal)
    return principal
  }
}
