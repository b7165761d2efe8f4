/**
 * CORS for the tus endpoint, on every response including errors: a browser
 * that cannot read a 409 or 412 sees only "network error" and cannot recover.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ALLOWED_HEADERS, ALLOWED_METHODS, EXPOSED_HEADERS } from './tus/protocol.ts'

export type CorsPolicy = readonly string[] | '*'

export function allowedOrigin(policy: CorsPolicy, origin: string | undefined): string | undefined {
  if (!origin) return undefined
  if (policy === '*') return origin
  return policy.includes(origin) ? origin : undefined
}

export function applyCors(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy): void {
  const origin = allowedOrigin(policy, req.headers.origin)
  if (!origin) return
  // The origin is echoed rather than '*' so that requests with credentials work too.
  res.setHeader('Access-Control-Allow-Origin', origin)
  res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS)
  res.setHeader('Vary', 'Origin')
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS)
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS)
    res.setHeader('Access-Control-Max-Age', '86400')
  }
}
