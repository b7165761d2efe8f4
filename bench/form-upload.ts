/**
 * Section `form` (opt-in: BENCH_ONLY=form): one large multipart/form-data
 * upload (POST /api/files, server/http/form-upload.ts) against the same bytes
 * as a tus upload (POST /files with Upload-Length, then one PATCH), on disk and,
 * with S3_BUCKET set, on S3, where a presigned multipart upload (parts PUT
 * straight to the store) runs too. The claim under test: "a 5 GiB form upload
 * keeps the server's memory flat". Measured, never asserted.
 *
 * Per round and backend, form and tus alternate (which goes first alternates by
 * round), each on a fresh `node server/main.ts` (PORT 0, fresh DATA_DIR,
 * ALLOWED_TYPES '*', WORKER_CONCURRENCY 0, MAX_UPLOAD_SIZE above the body).
 * No file on disk: the body comes from a generator cycling over 16 MiB of random
 * bytes, written with back-pressure by node:http (the form body framed with a
 * random boundary, Content-Length known). The server's own process's VmRSS
 * (/proc/<pid>/status) is sampled every 100 ms: for a second before the upload
 * (idle), during it (peak, and the peak within each quarter of the body sent, to
 * tell flat memory from memory growing with size) and two seconds after the
 * answer. The stored size (GET /api/files/:id -> size) must equal the bytes sent,
 * else the run is an error and the process exits non-zero.
 *
 * Environment:
 *   BENCH_FORM_GIB=2         size of the upload on disk (decimals allowed)
 *   BENCH_FORM_S3_GIB=<same> size of the upload on S3 (only with S3_BUCKET etc. set)
 *   BENCH_ROUNDS             rounds (from bench/run.ts)
 */
import { randomBytes, randomFillSync } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { cleanDir, measure, oursEnv, type Run } from './disk.ts'
import { type Child, procFacts, processTree, resetPeak, ROOT, startChild } from './proc.ts'
import { createUpload, openRequest, type Reply, TUS } from './lean-tus-client.ts'
import { fmt, list, max, median, MiB } from './stats.ts'

export const GiB = 1024 * MiB
export const FORM_MODES = ['form', 'tus', 'multipart'] as const
export type FormMode = (typeof FORM_MODES)[number]
export type FormBackend = 'disk' | 's3'

const SAMPLE_MS = 100
const IDLE_SETTLE_MS = 1000
const IDLE_SAMPLES = 10
const AFTER_MS = 2000
const WRITE_CHUNK = MiB
const POOL = 16 * MiB

export type FormRun = Run & {
  backend: FormBackend
  mode: FormMode
  bytes: number
  /** VmRSS of the server process (node server/main.ts itself), median of the samples in the second before the upload. */
  idleMiB: number
  /** Highest VmRSS sample (every 100 ms) from the first byte to the answer. */
  sampledPeakMiB: number
  /** VmHWM of the server process, reset just before the upload: the true peak between samples. */
  hwmMiB: number
  /** The highest sample within each quarter of the body sent (by bytes written by the client). */
  quarterPeaksMiB: number[]
  /** VmRSS two seconds after the answer. */
  afterMiB: number
  /** The other processes of the server (the PGlite child): their RSS summed, idle and highest sample. */
  helpersIdleMiB: number
  helpersPeakMiB: number
  samples: number
  storedSize?: number
}

/** A whole number or decimal above 0 from the environment. */
export function sizeEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw}: expected a number above 0`)
  return n
}

/** VmRSS / VmHWM of one process (NaN once it is gone). */
const vmRssMiB = (pid: number) => procFacts(pid).rssMiB
const vmHwmMiB = (pid: number) => procFacts(pid).peakRssMiB

/** The body's bytes: `size` bytes cycling over a random pool, in WRITE_CHUNK slices (the same Buffers, never copied). */
function* payload(pool: Buffer, size: number): Generator<Buffer> {
  let offset = 0
  let at = 0
  while (offset < size) {
    const n = Math.min(WRITE_CHUNK, size - offset, pool.length - at)
    yield pool.subarray(at, at + n)
    offset += n
    at = (at + n) % pool.length
  }
}

type Form = { boundary: string; head: Buffer; tail: Buffer; length: number }

/** multipart/form-data framing around one file part; the boundary never occurs in the pool (checked, wrap-around too). */
function formFraming(pool: Buffer, size: number): Form {
  for (;;) {
    const boundary = `----filedock-bench-${randomBytes(16).toString('hex')}`
    const delimiter = Buffer.from(`\r\n--${boundary}`)
    const wrap = Buffer.concat([pool.subarray(pool.length - delimiter.length), pool.subarray(0, delimiter.length)])
    if (pool.includes(delimiter) || wrap.includes(delimiter)) continue
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`)
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
    return { boundary, head, tail, length: head.length + size + tail.length }
  }
}

/**
 * One request whose body is `chunks`, written with back-pressure; `progress.sent`
 * counts the bytes handed to the socket. An early answer (a refusal) stops the writing.
 */
function send(method: string, url: string, headers: Record<string, string>, agent: http.Agent, chunks?: Iterable<Buffer>, progress?: { sent: number }): Promise<Reply> {
  const { req, reply, answered } = openRequest(method, url, headers, agent)
  if (!chunks) {
    req.end()
    return reply
  }
  let wake: (() => void) | undefined
  const resume = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  req.on('drain', resume)
  req.on('close', resume)
  void (async () => {
    for (const chunk of chunks) {
      if (answered() || req.destroyed) return
      if (progress) progress.sent += chunk.length
      if (!req.write(chunk)) await new Promise<void>((r) => (wake = r))
    }
    if (!req.destroyed) req.end()
  })().catch((err: unknown) => req.destroy(err as Error))
  return reply
}

/** POST /api/files with the framed body; returns the new file's id and its size as answered. */
async function formUpload(base: string, pool: Buffer, size: number, agent: http.Agent, progress: { sent: number }): Promise<string> {
  const form = formFraming(pool, size)
  function* body(): Generator<Buffer> {
    yield form.head
    yield* payload(pool, size)
    yield form.tail
  }
  const headers = { 'Content-Type': `multipart/form-data; boundary=${form.boundary}`, 'Content-Length': String(form.length) }
  const reply = await send('POST', `${base}/api/files`, headers, agent, body(), progress)
  if (reply.status !== 201) throw new Error(`POST /api/files: ${reply.status} ${reply.body.trim().slice(0, 500)}`)
  const files = (JSON.parse(reply.body) as { files?: { id: string; size: number | null }[] }).files ?? []
  const file = files[0]
  if (files.length !== 1 || !file) throw new Error(`POST /api/files answered ${files.length} files, expected 1: ${reply.body.slice(0, 500)}`)
  if (file.size !== size) throw new Error(`POST /api/files answered size ${file.size}, sent ${size}`)
  return file.id
}

/** POST /files with Upload-Length, then one PATCH with all the bytes; returns the upload id and the POST's ms. */
async function tusUpload(base: string, pool: Buffer, size: number, agent: http.Agent, progress: { sent: number }): Promise<{ id: string; postMs: number }> {
  const t0 = performance.now()
  const url = await createUpload(`${base}/files`, size, agent)
  const postMs = performance.now() - t0
  const headers = { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(size) }
  const reply = await send('PATCH', url, headers, agent, payload(pool, size), progress)
  if (reply.status !== 204 || Number(reply.headers['upload-offset']) !== size) {
    throw new Error(`PATCH ${url}: ${reply.status} offset ${reply.headers['upload-offset']} ${reply.body.trim().slice(0, 500)}`)
  }
  return { id: new URL(url).pathname.split('/').pop() as string, postMs }
}

/**
 * Presigned multipart (S3 only): POST /api/files/multipart, then each part signed by the server and PUT straight
 * to the store, four in flight, then complete. The server only signs: its memory and CPU are the point.
 */
async function multipartUpload(base: string, pool: Buffer, size: number, agent: http.Agent, progress: { sent: number }): Promise<string> {
  const json = (reply: Reply, what: string, status = 200) => {
    if (reply.status !== status) throw new Error(`${what}: ${reply.status} ${reply.body.trim().slice(0, 500)}`)
    return JSON.parse(reply.body) as Record<string, unknown>
  }
  const body = Buffer.from(JSON.stringify({ filename: 'bench.bin', size }))
  const started = json(await send('POST', `${base}/api/files/multipart`, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }, agent, [body]), 'POST /api/files/multipart', 201)
  const [fileId, uploadId, partSize] = [String(started.fileId), String(started.uploadId), Number(started.partSize)]
  const store = new http.Agent({ keepAlive: true, maxSockets: 4 })
  try {
    const parts = Array.from({ length: Math.ceil(size / partSize) }, (_, i) => ({ number: i + 1, length: Math.min(partSize, size - i * partSize) }))
    const next = () => parts.shift()
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let part = next(); part; part = next()) {
          const signed = json(await send('GET', `${base}/api/files/multipart/${fileId}/parts/${part.number}?uploadId=${encodeURIComponent(uploadId)}`, {}, agent), `sign part ${part.number}`)
          const put = await send('PUT', String(signed.url), { 'Content-Length': String(part.length) }, store, payload(pool, part.length), progress)
          if (put.status !== 200) throw new Error(`PUT part ${part.number}: ${put.status} ${put.body.trim().slice(0, 300)}`)
        }
      }),
    )
  } finally {
    store.destroy()
  }
  const done = Buffer.from(JSON.stringify({ uploadId }))
  json(await send('POST', `${base}/api/files/multipart/${fileId}/complete`, { 'Content-Type': 'application/json', 'Content-Length': String(done.length) }, agent, [done]), 'complete')
  return fileId
}

/** Samples VmRSS of the server and of its helper processes every SAMPLE_MS, with the client's progress at that time. */
function startSampler(pid: number, helpers: number[], progress: { sent: number }) {
  const samples: { sent: number; rss: number; helpers: number }[] = []
  const take = () => {
    const rss = vmRssMiB(pid)
    const h = helpers.reduce((s, p) => s + (vmRssMiB(p) || 0), 0)
    if (Number.isFinite(rss)) samples.push({ sent: progress.sent, rss, helpers: h })
  }
  take()
  const timer = setInterval(take, SAMPLE_MS)
  return {
    samples,
    stop() {
      clearInterval(timer)
      take()
      return samples
    },
  }
}

async function idleRss(pid: number, helpers: number[]): Promise<{ rss: number; helpers: number }> {
  await sleep(IDLE_SETTLE_MS)
  const rss: number[] = []
  const h: number[] = []
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    rss.push(vmRssMiB(pid))
    h.push(helpers.reduce((s, p) => s + (vmRssMiB(p) || 0), 0))
    await sleep(SAMPLE_MS)
  }
  return { rss: median(rss), helpers: median(h) }
}

async function getJson(base: string, pathname: string, agent: http.Agent): Promise<Reply> {
  return send('GET', `${base}${pathname}`, {}, agent)
}

export function s3ChildEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('S3_') && v) env[k] = v
  return env
}

async function runOnce(backend: FormBackend, mode: FormMode, round: number, size: number, pool: Buffer, workDir: string): Promise<FormRun> {
  const dir = await mkdtemp(path.join(workDir, `form-${backend}-${mode}-`))
  const extra: Record<string, string> = { MAX_UPLOAD_SIZE: String(Math.max(2 * size, 10 * GiB)), ...(backend === 's3' ? s3ChildEnv() : {}) }
  const child: Child = await startChild(`ours-${backend}-${mode}`, path.join(ROOT, 'server/main.ts'), oursEnv(dir, extra))
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  let id: string | undefined
  try {
    const helpers = processTree(child.pid).filter((p) => p !== child.pid)
    const idle = await idleRss(child.pid, helpers)
    for (const p of [child.pid, ...helpers]) resetPeak(p)
    const progress = { sent: 0 }
    const sampler = startSampler(child.pid, helpers, progress)
    const run = await measure(child, round, mode, size, async () => {
      if (mode === 'form') {
        id = await formUpload(child.url, pool, size, agent, progress)
        return {}
      }
      if (mode === 'multipart') {
        id = await multipartUpload(child.url, pool, size, agent, progress)
        return {}
      }
      const r = await tusUpload(child.url, pool, size, agent, progress)
      id = r.id
      return { postMs: r.postMs }
    })
    const samples = sampler.stop()
    const hwm = vmHwmMiB(child.pid)
    await sleep(AFTER_MS)
    const after = vmRssMiB(child.pid)
    // By bytes the client had written (the form's framing adds a few hundred: the last quarter takes them).
    const quarterPeaksMiB = [0, 1, 2, 3].map((q) => max(samples.filter((s) => Math.min(3, Math.floor((4 * s.sent) / size)) === q).map((s) => s.rss)))
    const result: FormRun = {
      ...run,
      backend,
      mode,
      bytes: size,
      idleMiB: idle.rss,
      idleRssMiB: idle.rss,
      sampledPeakMiB: max(samples.map((s) => s.rss)),
      hwmMiB: hwm,
      quarterPeaksMiB,
      afterMiB: after,
      helpersIdleMiB: idle.helpers,
      helpersPeakMiB: max(samples.map((s) => s.helpers)),
      samples: samples.length,
    }
    if (!result.error && id) {
      // The record must say exactly the bytes sent; anything else fails the run, loudly.
      const reply = await getJson(child.url, `/api/files/${id}`, agent)
      const stored = reply.status === 200 ? (JSON.parse(reply.body) as { size: number | null; status: string }) : undefined
      result.storedSize = stored?.size ?? Number.NaN
      if (!stored || stored.size !== size) {
        result.error = `SIZE MISMATCH: GET /api/files/${id} -> ${reply.status} size ${stored?.size} (status ${stored?.status}), sent ${size} bytes`
        result.mibps = Number.NaN
      }
    }
    return result
  } finally {
    // Removes the bytes (on S3 too) through the server; the directory goes with cleanDir.
    if (id) {
      const gone = await send('DELETE', `${child.url}/api/files/${id}`, {}, agent).catch((err: unknown) => ({ status: 0, body: String(err) }))
      if (gone.status !== 204 && gone.status !== 200) process.stderr.write(`form bench: DELETE /api/files/${id} -> ${gone.status} ${gone.body}: remove it by hand\n`)
    }
    agent.destroy()
    await child.stop()
    await cleanDir(dir)
  }
}

export type FormResult = { backend: FormBackend; sizeBytes: number; runs: FormRun[] }

export async function runFormSection(opts: { rounds: number; workDir: string; log: (line: string) => void }): Promise<FormResult[]> {
  const pool = Buffer.allocUnsafe(POOL)
  randomFillSync(pool)
  const plan: { backend: FormBackend; size: number }[] = [{ backend: 'disk', size: Math.round(sizeEnv('BENCH_FORM_GIB', 2) * GiB) }]
  if (process.env.S3_BUCKET) plan.push({ backend: 's3', size: Math.round(sizeEnv('BENCH_FORM_S3_GIB', sizeEnv('BENCH_FORM_GIB', 2)) * GiB) })
  else opts.log('  form: S3_BUCKET unset, disk only')
  const results: FormResult[] = []
  for (const { backend, size } of plan) {
    const runs: FormRun[] = []
    for (let round = 1; round <= opts.rounds; round++) {
      // Presigned multipart needs S3.
      const modes = FORM_MODES.filter((m) => m !== 'multipart' || backend === 's3')
      const order = round % 2 === 1 ? modes : [...modes].reverse()
      for (const mode of order) {
        const r = await runOnce(backend, mode, round, size, pool, opts.workDir)
        runs.push(r)
        opts.log(
          `  form ${backend} round ${round} ${mode.padEnd(4)} ${r.error ? `ERROR ${r.error}` : `${fmt(r.mibps)} MiB/s`}  RSS idle ${fmt(r.idleMiB)} peak ${fmt(r.sampledPeakMiB)} (VmHWM ${fmt(r.hwmMiB)}) by quarter ${list(r.quarterPeaksMiB)} after ${fmt(r.afterMiB)} MiB  CPU-s server ${fmt(r.serverCpuS, 1)} client ${fmt(r.clientCpuS, 1)} others ${fmt(r.othersCpuS, 1)}`,
        )
        if (r.error?.startsWith('SIZE MISMATCH')) {
          process.stderr.write(`\n*** form bench: ${backend} ${mode} round ${round}: ${r.error} ***\n\n`)
          process.exitCode = 1
        }
      }
    }
    results.push({ backend, sizeBytes: size, runs })
  }
  return results
}

/** The section's settings line for the report header. */
export function formSettings(): string {
  const disk = sizeEnv('BENCH_FORM_GIB', 2)
  const s3 = process.env.S3_BUCKET ? `, S3 ${sizeEnv('BENCH_FORM_S3_GIB', disk)} GiB (BENCH_FORM_S3_GIB)` : ', no S3 (S3_BUCKET unset)'
  return `Form section: disk ${disk} GiB (BENCH_FORM_GIB)${s3}; RSS sampled every ${SAMPLE_MS} ms; the other sections' settings above do not apply to it`
}

const sizeLabel = (bytes: number) => (bytes % GiB === 0 ? `${bytes / GiB} GiB` : `${fmt(bytes / MiB)} MiB`)

/** Markdown and console lines for bench/RESULTS-form.md (or wherever run.ts writes). */
export function renderForm(results: FormResult[]): { md: string[]; summary: string[] } {
  const md: string[] = []
  const summary: string[] = []
  for (const { backend, sizeBytes, runs } of results) {
    const where = backend === 'disk' ? 'local disk' : `S3 (\`${process.env.S3_ENDPOINT ?? 'AWS'}\`, bucket \`${process.env.S3_BUCKET}\`, S3_PART_SIZE ${process.env.S3_PART_SIZE ?? '8 MiB (default)'})`
    md.push(`## Form upload vs tus: one ${sizeLabel(sizeBytes)} upload to ${where}`, '')
    md.push(
      `Ours = \`node server/main.ts\` (${backend === 'disk' ? 'disk storage' : 'S3 storage'}, ${process.env.BENCH_OURS_DATABASE_URL ? 'Postgres' : 'PGlite in its child process'}, WORKER_CONCURRENCY 0, ALLOWED_TYPES *, fresh server and DATA_DIR per run). ` +
        '"form" = one `POST /api/files`, multipart/form-data with one file part (Content-Length known, random boundary); "tus" = `POST /files` with Upload-Length, then one PATCH with every byte' +
        (backend === 's3' ? '; "presigned multipart" (S3 only) = `POST /api/files/multipart`, each part signed by the server and PUT straight to the store, four in flight, then complete: the bytes never reach the server' : '') +
        '. ' +
        'Both bodies come from a generator over 16 MiB of random bytes, written in 1 MiB slices with back-pressure (bench/form-upload.ts); both run in every round, on fresh servers, and which goes first alternates by round. ' +
        'RSS = VmRSS of the server process itself (the node running server/main.ts), read from /proc every 100 ms: idle = median over the second before the upload; peak = highest sample from the first byte to the answer; VmHWM = the kernel\'s peak, reset just before the upload; quarters = the highest sample while the client was writing each quarter of the body; after = 2 s after the answer. ' +
        'The PGlite child\'s RSS is shown apart. MiB/s = bytes / (first request to the last answer). "other processes CPU-s" = what the rest of the machine was busy with during the upload (other users of its 2 cores' +
        (backend === 's3' ? ', and the local object store serving the parts' : '') +
        '). Every run checks GET /api/files/:id -> size equals the bytes sent.',
      '',
    )
    md.push('| way in | MiB/s per round | median MiB/s | server RSS idle before the upload | peak RSS during the upload (samples), median (max) | VmHWM during the upload, median (max) | peak - idle, median (max) | highest sample per quarter of the body (round medians) | RSS 2 s after the answer | PGlite child RSS idle / peak | server CPU-s per GiB | client CPU-s per GiB | other processes CPU-s | stored size = sent |')
    md.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for (const mode of FORM_MODES) {
      const rs = runs.filter((r) => r.mode === mode)
      if (rs.length === 0) continue
      const ok = rs.filter((r) => !r.error)
      const m = (f: (r: FormRun) => number, digits = 0) => fmt(median(rs.map(f)), digits)
      const mx = (f: (r: FormRun) => number) => fmt(max(rs.map(f).filter(Number.isFinite)))
      const perGiB = (cpuS: number) => (cpuS * GiB) / sizeBytes
      const quarters = [0, 1, 2, 3].map((q) => median(rs.map((r) => r.quarterPeaksMiB[q] ?? Number.NaN)))
      md.push(
        `| ${{ form: 'form, `POST /api/files`', tus: 'tus, POST + one PATCH', multipart: 'presigned multipart, parts PUT to the store (4 in flight)' }[mode]} | ${rs.map((r) => (r.error ? 'error' : fmt(r.mibps))).join(', ')} | **${m((r) => r.mibps)}** | ${m((r) => r.idleMiB)} MiB | ` +
          `**${m((r) => r.sampledPeakMiB)}** (${mx((r) => r.sampledPeakMiB)}) MiB | ${m((r) => r.hwmMiB)} (${mx((r) => r.hwmMiB)}) MiB | **${m((r) => r.sampledPeakMiB - r.idleMiB)}** (${mx((r) => r.sampledPeakMiB - r.idleMiB)}) MiB | ` +
          `${list(quarters)} MiB | ${m((r) => r.afterMiB)} MiB | ${m((r) => r.helpersIdleMiB)} / ${m((r) => r.helpersPeakMiB)} MiB | ${m((r) => perGiB(r.serverCpuS), 2)} | ${m((r) => perGiB(r.clientCpuS), 2)} | ${m((r) => r.othersCpuS, 1)} | ${ok.length === rs.length ? `yes (${rs.length}/${rs.length})` : `**NO: ${rs.length - ok.length} failed**`} |`,
      )
      for (const r of rs) if (r.error) md.push(`|  | round ${r.round} error: ${r.error.replaceAll('|', '/').slice(0, 300)} |`)
    }
    md.push('')
    const ratios: number[] = []
    for (const f of runs.filter((r) => r.mode === 'form')) {
      const t = runs.find((r) => r.mode === 'tus' && r.round === f.round)
      if (t && !f.error && !t.error) ratios.push(f.mibps / t.mibps)
    }
    const form = runs.filter((r) => r.mode === 'form')
    const tus = runs.filter((r) => r.mode === 'tus')
    const direct = runs.filter((r) => r.mode === 'multipart')
    const directRatios: number[] = []
    for (const d of direct) {
      const t = tus.find((r) => r.round === d.round)
      if (t && !d.error && !t.error) directRatios.push(d.mibps / t.mibps)
    }
    const growth = (rs: FormRun[]) => median(rs.map((r) => (r.quarterPeaksMiB[3] ?? Number.NaN) - (r.quarterPeaksMiB[0] ?? Number.NaN)))
    const lines = [
      `${backend}, ${sizeLabel(sizeBytes)}: form / tus MiB/s (paired within a round): per round ${list(ratios, 2)}, median **${fmt(median(ratios), 2)}** (form ${fmt(median(form.map((r) => r.mibps)))} MiB/s, tus ${fmt(median(tus.map((r) => r.mibps)))} MiB/s)`,
      `${backend}, ${sizeLabel(sizeBytes)}: server peak RSS form ${fmt(median(form.map((r) => r.sampledPeakMiB)))} MiB vs tus ${fmt(median(tus.map((r) => r.sampledPeakMiB)))} MiB (idle ${fmt(median(form.map((r) => r.idleMiB)))} / ${fmt(median(tus.map((r) => r.idleMiB)))} MiB; peak - idle ${fmt(median(form.map((r) => r.sampledPeakMiB - r.idleMiB)))} vs ${fmt(median(tus.map((r) => r.sampledPeakMiB - r.idleMiB)))} MiB)`,
      `${backend}, ${sizeLabel(sizeBytes)}: RSS growth from the first to the last quarter of the body (median): form ${fmt(growth(form))} MiB, tus ${fmt(growth(tus))} MiB (flat memory: near 0, whatever the size)`,
    ]
    if (direct.length > 0) {
      lines.push(
        `${backend}, ${sizeLabel(sizeBytes)}: presigned multipart / tus MiB/s (paired within a round): per round ${list(directRatios, 2)}, median **${fmt(median(directRatios), 2)}** (multipart ${fmt(median(direct.map((r) => r.mibps)))} MiB/s); server peak - idle ${fmt(median(direct.map((r) => r.sampledPeakMiB - r.idleMiB)))} MiB, server CPU-s ${fmt(median(direct.map((r) => r.serverCpuS)), 2)} vs tus ${fmt(median(tus.map((r) => r.serverCpuS)), 2)}`,
      )
    }
    md.push(...lines.map((l) => `- ${l}`), '')
    summary.push(...lines)
  }
  return { md, summary }
}
