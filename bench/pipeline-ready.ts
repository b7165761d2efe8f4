/**
 * Time from an upload's last byte to `ready`: a fresh server of ours per
 * round with its worker on (WORKER_CONCURRENCY=2, no LLM), uploads one after
 * another so the figure is latency, not queueing. t0 = the 204 of the one
 * PATCH that carries the whole file; t1 = the answer of GET
 * /api/files/:id?wait=30 saying `ready`.
 */
import { mkdtemp } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import type { CsvSource } from './csv-source.ts'
import { cleanDir, oursEnv } from './disk.ts'
import { patch, request } from './lean-tus-client.ts'
import { type Child, ROOT, startChild } from './proc.ts'

export type ReadySample = {
  round: number
  /** 1-based order within the round: the first pays for a cold worker. */
  index: number
  /** t1 - t0: the PATCH's 204 to the long-poll's `ready`. */
  ms: number
  /** processing_started_at - uploaded_at (database clock): the finished upload's transaction to the worker's claim. */
  claimMs: number
  /** The worker's own `job.done` ms (read, sandboxed parse, describe, store), from the server's log; NaN if not found. */
  jobMs: number
}

const TUS = { 'Tus-Resumable': '1.0.0' }
const b64 = (s: string) => Buffer.from(s).toString('base64')

/** POST /files with the name and type a browser would send; returns the upload URL and the file id. */
async function create(child: Child, csv: CsvSource, name: string, agent: http.Agent): Promise<{ url: string; id: string }> {
  const headers = { ...TUS, 'Upload-Length': String(csv.bytes), 'Upload-Metadata': `filename ${b64(name)},filetype ${b64('text/csv')}` }
  const reply = await request('POST', `${child.url}/files`, headers, agent)
  const location = reply.headers.location
  if (reply.status !== 201 || !location) throw new Error(`POST /files: ${reply.status} ${reply.body.trim()}`)
  const url = new URL(location, `${child.url}/files`)
  return { url: url.toString(), id: url.pathname.split('/').pop() ?? '' }
}

type FileJson = { status: string; error: { code: string; message: string } | null; metadata: { rows?: number } | null; uploadedAt: string | null; processingStartedAt: string | null }

/** `job.done` lines of the server's log (the last 64 KiB of its output) by upload id. */
function jobTimes(child: Child, into: Map<string, number>): void {
  for (const line of child.output().split('\n')) {
    if (!line.includes('"job.done"')) continue
    try {
      const entry = JSON.parse(line) as { uploadId?: string; ms?: number }
      if (entry.uploadId && typeof entry.ms === 'number') into.set(entry.uploadId, entry.ms)
    } catch {
      // a line cut by the 64 KiB window
    }
  }
}

async function uploadUntilReady(child: Child, csv: CsvSource, name: string, agent: http.Agent): Promise<{ id: string; ms: number; claimMs: number }> {
  const { url, id } = await create(child, csv, name, agent)
  await patch(url, 0, { file: csv.file, start: 0, length: csv.bytes }, agent)
  const t0 = performance.now()
  const reply = await request('GET', `${child.url}/api/files/${id}?wait=30`, {}, agent)
  const ms = performance.now() - t0
  if (reply.status !== 200) throw new Error(`GET /api/files/${id}?wait=30: ${reply.status} ${reply.body.trim().slice(0, 300)}`)
  const file = JSON.parse(reply.body) as FileJson
  if (file.status === 'failed') throw new Error(`${name} ended failed: ${file.error?.code}: ${file.error?.message}`)
  if (file.status !== 'ready') throw new Error(`${name} still ${file.status} after 30 s`)
  if (file.metadata?.rows !== csv.rows) throw new Error(`${name} is ready with ${file.metadata?.rows} rows, expected ${csv.rows}`)
  const claimMs = Date.parse(file.processingStartedAt ?? '') - Date.parse(file.uploadedAt ?? '')
  return { id, ms, claimMs }
}

export async function runReadyRound(opts: { round: number; csv: CsvSource; uploads: number; workDir: string }): Promise<ReadySample[]> {
  const dir = await mkdtemp(path.join(opts.workDir, 'ready-'))
  // DESCRIBE_LLM_* empty: the offline describer only, whatever the calling shell has set.
  const env = oursEnv(dir, { WORKER_CONCURRENCY: '2', DESCRIBE_LLM_URL: '', DESCRIBE_LLM_MODEL: '' })
  const child = await startChild('ours', path.join(ROOT, 'server/main.ts'), env)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const jobMs = new Map<string, number>()
  const done: { id: string; ms: number; claimMs: number }[] = []
  try {
    for (let i = 1; i <= opts.uploads; i++) {
      done.push(await uploadUntilReady(child, opts.csv, `orders-r${opts.round}-${i}.csv`, agent))
      // Read as we go: the output window is 64 KiB.
      jobTimes(child, jobMs)
    }
    // pino may write the last job.done just after the waiter was answered.
    await new Promise((resolve) => setTimeout(resolve, 200))
    jobTimes(child, jobMs)
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server output (tail) ---\n${child.output().slice(-2000)}`)
  } finally {
    agent.destroy()
    await child.stop()
    await cleanDir(dir)
  }
  return done.map((d, i) => ({ round: opts.round, index: i + 1, ms: d.ms, claimMs: d.claimMs, jobMs: jobMs.get(d.id) ?? Number.NaN }))
}
