/**
 * API keys for the `X-API-Key` header.
 *
 * A key reads `fdk_<id>_<secret>`: `fdk_` makes a leaked key recognisable to
 * secret scanners and to people; `<id>` (12 hex characters) names the row, so
 * a key is found by primary key instead of by hashing against every row, and
 * can be listed and revoked without knowing the secret; `<secret>` is 32
 * random bytes in base64url (43 characters, which may themselves contain `_`
 * and `-`). Only the hex SHA-256 of the secret is stored: a plain hash is
 * enough for 256 random bits (nothing to brute-force, unlike a password), and
 * it keeps verification cheap on every upload chunk.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Kysely } from 'kysely'
import { findActiveApiKey, insertApiKey, touchApiKey } from '../db/api-key.repository.ts'
import type { Database } from '../db/schema.ts'
import { AuthError } from './principal.ts'

const KEY_PATTERN = /^fdk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/

export const MALFORMED_KEY_MESSAGE = 'the X-API-Key header does not hold a filedock API key'
/** One message for an unknown id, a wrong secret and a revoked key, so a caller cannot tell which it hit. */
export const INVALID_KEY_MESSAGE = 'the API key is not valid or was revoked'

export type ApiKeyIdentity = { userId: string; keyId: string }
export type ApiKeyVerifier = (key: string) => Promise<ApiKeyIdentity>

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

/**
 * User ids land in logs, headers of the CLI's output and the database (which
 * allows 1-200 characters): refuse control characters that could forge log
 * lines or hide text on a terminal. Counted in code points, as Postgres does.
 */
export function isValidUserId(userId: string): boolean {
  const length = [...userId].length
  return length >= 1 && length <= 200 && !/\p{Cc}/u.test(userId)
}

/** The parts of a well-formed key, or undefined for anything else. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = KEY_PATTERN.exec(key)
  return match ? { id: match[1] as string, secret: match[2] as string } : undefined
}

/** Makes and stores a key for `userId`. The key is in the result only: it cannot be read back later. */
export async function createApiKey(db: Kysely<Database>, input: { userId: string; label?: string }): Promise<{ id: string; key: string }> {
  if (!isValidUserId(input.userId)) throw new RangeError('a user id must be 1 to 200 characters without control characters')
  if (input.label !== undefined && !isValidUserId(input.label)) throw new RangeError('a label must be 1 to 200 characters without control characters')
  const id = randomBytes(6).toString('hex')
  const secret = randomBytes(32).toString('base64url')
  await insertApiKey(db, { id, userId: input.userId, secretHash: sha256(secret).toString('hex'), label: input.label ?? null })
  return { id, key: `fdk_${id}_${secret}` }
}

/**
 * A function that turns a presented key into the user it belongs to, or
 * throws AuthError. `onTouchError` hears about failures to record last use:
 * that bookkeeping must never fail or slow down the request itself.
 */
export function createApiKeyVerifier(db: Kysely<Database>, options: { onTouchError?: (error: unknown) => void } = {}): ApiKeyVerifier {
  const onTouchError = options.onTouchError ?? (() => {})
  return async (key) => {
    const parsed = parseApiKey(key)
    if (!parsed) throw new AuthError(MALFORMED_KEY_MESSAGE)
    const presented = sha256(parsed.secret)
    const row = await findActiveApiKey(db, parsed.id)
    const stored = row ? Buffer.from(row.secretHash, 'hex') : undefined
    // timingSafeEqual throws on different lengths; a stored hash is always 32 bytes, but a damaged row must refuse, not crash.
    if (!row || !stored || stored.length !== presented.length || !timingSafeEqual(stored, presented)) {
      throw new AuthError(INVALID_KEY_MESSAGE)
    }
    // Not awaited: a slow or failing bookkeeping write must not hold up or fail the request it rides on.
    touchApiKey(db, row.id).catch((error: unknown) => {
      try {
        onTouchError(error)
      } catch {}
    })
    return { userId: row.userId, keyId: row.id }
  }
}
