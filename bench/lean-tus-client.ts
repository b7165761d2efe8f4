/**
 * A lean tus client: plain node:http requests, bodies streamed from a file
 * with fs.createReadStream(start, end). No tus-js-client: it burns 1.5-2
 * CPU-s per GiB on the same 2 cores as the server.
 */
import { createReadStream } from 'node:fs'
import http from 'node:http'
import { MiB } from './stats.ts'

export type BodySlice = { file: string; start: number; length: number }
export type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string }

export const TUS = { 'Tus-Resumable': '1.0.0' }
/** Large reads keep the client's CPU share small. */
const READ_CHUNK = MiB

/**
 * Starts a request and collects its answer. The caller writes the body (or
 * ends it); `answered()` tells it to stop writing once the server has spoken.
 * A connection closed before or during the answer fails `reply`, never leaves it pending.
 */
export function openRequest(method: string, url: string, headers: Record<string, string>, agent: http.Agent): { req: http.ClientRequest; reply: Promise<Reply>; answered: () => boolean } {
  let answered = false
  let req!: http.ClientRequest
  const reply = new Promise<Reply>((resolve, reject) => {
    req = http.request(url, { method, headers, agent }, (res) => {
      answered = true
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }))
      res.on('error', reject)
      res.on('close', () => {
        if (!res.complete) reject(new Error(`${method} ${url}: connection closed during the answer`))
      })
    })
    req.on('error', reject)
    req.on('close', () => {
      if (!answered) reject(new Error(`${method} ${url}: connection closed without an answer`))
    })
  })
  return { req, reply, answered: () => answered }
}

export function request(method: string, url: string, headers: Record<string, string>, agent: http.Agent, body?: BodySlice): Promise<Reply> {
  const { req, reply } = openRequest(method, url, body ? { ...headers, 'Content-Length': String(body.length) } : headers, agent)
  if (!body || body.length === 0) {
    req.end()
    return reply
  }
  const source = createReadStream(body.file, { start: body.start, end: body.start + body.length - 1, highWaterMark: READ_CHUNK })
  source.on('error', (err) => req.destroy(err))
  source.pipe(req)
  return reply
}

/** POST /files with Upload-Length; returns the absolute upload URL. */
export async function createUpload(endpoint: string, length: number, agent: http.Agent, filename = 'bench.bin'): Promise<string> {
  const reply = await request('POST', endpoint, { ...TUS, 'Upload-Length': String(length), 'Upload-Metadata': `filename ${Buffer.from(filename).toString('base64')}` }, agent)
  const location = reply.headers.location
  if (reply.status !== 201 || !location) throw new Error(`POST ${endpoint}: ${reply.status} ${reply.body.trim()}`)
  return new URL(location, endpoint).toString()
}

/** One PATCH of `slice` at `offset`; returns the new offset and fails unless all bytes landed. */
export async function patch(uploadUrl: string, offset: number, slice: BodySlice, agent: http.Agent): Promise<number> {
  const reply = await request('PATCH', uploadUrl, { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, agent, slice)
  const next = Number(reply.headers['upload-offset'])
  if (reply.status !== 204 || next !== offset + slice.length) {
    throw new Error(`PATCH ${uploadUrl} at ${offset}: ${reply.status} offset ${reply.headers['upload-offset']} ${reply.body.trim()}`)
  }
  return next
}

export async function head(uploadUrl: string, agent: http.Agent): Promise<Reply> {
  return request('HEAD', uploadUrl, { ...TUS }, agent)
}

/**
 * A whole tus upload of bytes [fileStart, fileStart + size) of `file`: POST,
 * then PATCHes of `chunkSize` bytes (Infinity: one PATCH). Returns the upload
 * URL, the milliseconds from the POST to the last PATCH's answer, and the POST's own.
 */
export async function tusUpload(endpoint: string, file: string, size: number, chunkSize: number, agent: http.Agent, fileStart = 0): Promise<{ url: string; ms: number; postMs: number }> {
  const t0 = performance.now()
  const url = await createUpload(endpoint, size, agent)
  const postMs = performance.now() - t0
  let offset = 0
  while (offset < size) {
    const length = Math.min(chunkSize, size - offset)
    offset = await patch(url, offset, { file, start: fileStart + offset, length }, agent)
  }
  return { url, ms: performance.now() - t0, postMs }
}

/** The raw sink's protocol: one PUT with the whole body. */
export async function putFile(url: string, file: string, size: number, agent: http.Agent): Promise<{ ms: number }> {
  const t0 = performance.now()
  const reply = await request('PUT', url, {}, agent, { file, start: 0, length: size })
  if (reply.status !== 204) throw new Error(`PUT ${url}: ${reply.status} ${reply.body.trim()}`)
  return { ms: performance.now() - t0 }
}
