/** Who is calling: the user every file belongs to, and how they proved it. */
export type Principal = { userId: string; via: 'jwt' | 'api_key' | 'local' }

/** With no authentication configured the server acts as this one local user (on loopback only). */
export const LOCAL_USER = 'local'

/** A refused credential: answered 401 with `message`, which says what was wrong. */
export class AuthError extends Error {
  override name = 'AuthError'
}
