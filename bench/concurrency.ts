/**
 * Section 3: N concurrent uploads of 8 MiB (POST + one PATCH each) from this
 * process, while a separate probe process sends resume checks (HEAD) every
 * ~20 ms to uploads created before the load and left half written, as an
 * interrupted client's would be. Our server and the bare @tus/server, interleaved.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { cleanDir, measure, type Run, startServerFor } from './disk.ts'
import { createUpload, patch, tusUpload } from './lean-tus-client.ts'
import { ROOT } from './proc.ts'
import { MiB, percentile } from './stats.ts'

export type ConcurrencyRun = Run & {
  n: number
  errors: number
  errorSample?: string
  uploadP50s: number
  uploadP99s: number
  /** HEAD latencies (ms) sent before the load started, and during it. */
  headIdle: number[]
  headLoad: number[]
  headErrors: number
  /** OPTIONS /files latencies (ms) during the load: no storage access, the event loop's share. */
  optionsLoad: number[]
}

const UPLOAD = 8 * MiB
const PROBE_UPLOADS = 8

type Sample = [sentAt: number, ms: number, status: number, kind: number]
type Probe = { stop(): Promise<{ samples: Sample[]; unanswered: number }> }

async function startProbe(urlsFile: string, controlUrl: string): Promise<Probe> {
  const env = { ...process.env, PROBE_URLS_FILE: urlsFile, PROBE_CONTROL_URL: controlUrl }
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/head-probe.ts')], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const iterator = lines[Symbol.asyncIterator]()
  const first = await iterator.next()
  if (first.value !== 'probe ready') throw new Error(`head probe did not start: ${String(first.value)}`)
  return {
    async stop() {
      child.stdin.end('stop\n')
      const result = await iterator.next()
      return JSON.parse(String(result.value)) as { samples: Sample[]; unanswered: number }
    },
  }
}

export async function runConcurrencyOnce(kind: 'ours' | 'bare', round: number, n: number, file: string, fileSize: number, workDir: string): Promise<ConcurrencyRun> {
  const dir = await mkdtemp(path.join(workDir, `conc-${kind}-`))
  const child = await startServerFor(kind, dir)
  const agent = new http.Agent({ keepAlive: true, maxSockets: n + PROBE_UPLOADS + 16 })
  const endpoint = `${child.url}/files`
  try {
    // The probe's targets: uploads with their first MiB written, waiting to be resumed.
    const probeUrls: string[] = []
    for (let i = 0; i < PROBE_UPLOADS; i++) {
      const url = await createUpload(endpoint, UPLOAD, agent, `resume-${i}.bin`)
      await patch(url, 0, { file, start: 0, length: MiB }, agent)
      probeUrls.push(url)
    }
    const urlsFile = path.join(dir, '..', `probe-urls-${kind}-${round}.json`)
    await writeFile(urlsFile, JSON.stringify(probeUrls))
    const probe = await startProbe(urlsFile, endpoint)
    await new Promise((resolve) => setTimeout(resolve, 1000)) // idle HEAD baseline

    const slots = Math.max(1, Math.floor(fileSize / UPLOAD))
    const latencies: number[] = []
    const failures: string[] = []
    let loadStart = 0
    let loadEnd = 0
    const run = await measure(child, round, kind, n * UPLOAD, async () => {
      loadStart = Date.now()
      const settled = await Promise.allSettled(
        Array.from({ length: n }, (_, i) => tusUpload(endpoint, file, UPLOAD, Number.POSITIVE_INFINITY, agent, (i % slots) * UPLOAD)),
      )
      loadEnd = Date.now()
      for (const s of settled) {
        if (s.status === 'fulfilled') latencies.push(s.value.ms / 1000)
        else failures.push(s.reason instanceof Error ? s.reason.message : String(s.reason))
      }
    })
    const { samples, unanswered } = await probe.stop()
    const heads = samples.filter(([, , , kind]) => kind === 0)
    const headIdle = heads.filter(([t]) => t < loadStart).map(([, ms]) => ms)
    const during = heads.filter(([t]) => t >= loadStart && t <= loadEnd)
    const headLoad = during.map(([, ms]) => ms)
    const headErrors = during.filter(([, , status]) => status !== 200).length + unanswered
    const optionsLoad = samples.filter(([t, , , kind]) => kind === 1 && t >= loadStart && t <= loadEnd).map(([, ms]) => ms)
    return {
      ...run,
      // Throughput counts only the uploads that completed.
      mibps: ((n - failures.length) * UPLOAD) / MiB / run.seconds,
      n,
      errors: failures.length,
      errorSample: failures[0],
      uploadP50s: percentile(latencies, 50),
      uploadP99s: percentile(latencies, 99),
      headIdle,
      headLoad,
      headErrors,
      optionsLoad,
    }
  } finally {
    agent.destroy()
    await child.stop()
    await cleanDir(dir)
  }
}

export async function runConcurrencySection(opts: { n: number; file: string; fileSize: number; rounds: number; workDir: string; log: (line: string) => void }): Promise<ConcurrencyRun[]> {
  const runs: ConcurrencyRun[] = []
  for (let round = 1; round <= opts.rounds; round++) {
    for (const kind of ['ours', 'bare'] as const) {
      const r = await runConcurrencyOnce(kind, round, opts.n, opts.file, opts.fileSize, opts.workDir)
      runs.push(r)
      opts.log(
        `  concurrency round ${round} ${kind.padEnd(4)} ${r.mibps.toFixed(0)} MiB/s  errors ${r.errors}  peak RSS ${r.peakRssMiB.toFixed(0)} MiB  ` +
          `HEAD p50/p99/max ${percentile(r.headLoad, 50).toFixed(0)}/${percentile(r.headLoad, 99).toFixed(0)}/${Math.max(0, ...r.headLoad).toFixed(0)} ms (${r.headLoad.length} during load, ${r.headErrors} failed)  OPTIONS p50/p99 ${percentile(r.optionsLoad, 50).toFixed(0)}/${percentile(r.optionsLoad, 99).toFixed(0)} ms`,
      )
    }
  }
  return runs
}
