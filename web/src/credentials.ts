/**
 * The token or API key the person typed, kept for this browser session
 * (sessionStorage: gone when the tab closes, never sent anywhere but here).
 * API keys (fdk_…) travel as X-API-Key, anything else as a Bearer JWT.
 */
const KEY = 'filedock.credential'

export function savedCredential(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined
  } catch {
    return undefined // storage blocked: the person types it again after a reload
  }
}

export function saveCredential(value: string | undefined): void {
  try {
    if (value) sessionStorage.setItem(KEY, value)
    else sessionStorage.removeItem(KEY)
  } catch {
    // storage blocked: kept in memory only
  }
}

export function authHeaders(credential: string | undefined): Record<string, string> {
  if (!credential) return {}
  return /^fdk_/.test(credential) ? { 'X-API-Key': credential } : { Authorization: `Bearer ${credential}` }
}
