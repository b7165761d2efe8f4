/** Small raw-HTTP helpers for speaking tus by hand in tests. */
import { createHash, randomBytes } from 'node:crypto'
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'

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

export type RawResponse = { status: number; headers: IncomingHttpHeaders; body: string }

/**
 * One request through node:http on its own connection. Headers given as a
 * flat array are sent as they are, repeats included (Node adds no Host then:
 * it is added here). An array body is sent chunked, one chunk per element.
 */
export function rawRequest(url: string, method: string, headers: OutgoingHttpHeaders | string[], body?: Uint8Array | Uint8Array[]): Promise<RawResponse> {
  const sent = Array.isArray(headers) ? ['Host', new URL(url).host, ...headers] : headers
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: sent, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    for (const chunk of Array.isArray(body) ? body : body ? [body] : []) req.write(chunk)
    req.end()
  })
}
