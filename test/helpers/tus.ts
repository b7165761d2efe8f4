/** Small raw-HTTP helpers for speaking tus by hand in tests. */
import { createHash, randomBytes } from 'node:crypto'

export const TUS = { 'Tus-Resumable': '1.0.0' } as const

export function b64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64')
}

export function metadataHeader(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(',')
}

export async function createUpload(base: string, length: number | 'defer', meta: Record<string, string> = { filename: 'a.bin', filetype: 'application/octet-stream' }): Promise<string> {
  const headers: Record<string, string> = { ...TUS, 'Upload-Metadata': metadataHeader(meta) }
  if (length === 'defer') headers['Upload-Defer-Length'] = '1'
  else headers['Upload-Length'] = String(length)
  const res = await fetch(`${base}/files`, { method: 'POST', headers })
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`)
  const location = res.headers.get('location')
  if (!location) throw new Error('no Location')
  return new URL(location, base).toString()
}

export async function patch(url: string, offset: number, body: Uint8Array, extra: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'PATCH',
    headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...extra },
    body: body as unknown as BodyInit,
  })
}

export function idOf(url: string): string {
  return url.split('/').pop() as string
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export function randomData(size: number): Buffer {
  return randomBytes(size)
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
