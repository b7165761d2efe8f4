/**
 * Section 1: one upload of the whole source file, to local disk, through
 * five configurations interleaved round by round: the raw disk sink, our
 * server (one PATCH, 8 MiB chunks) and a bare @tus/server (same two).
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { putFile, tusUpload } from './lean-tus-client.ts'
import { type Child, childEnv, machineBusySeconds, ROOT, startChild } from './proc.ts'
import { MiB } from './stats.ts'

export const DISK_CONFIGS = ['sink', 'ours-1', 'ours-8', 'bare-1', 'bare-8'] as const
export type DiskConfig = (typeof DISK_CONFIGS)[number]

export type Run = {
  config: string
  round: number
  mibps: number
  seconds: number
  /** Server VmHWM at the end of the run: peak RSS since the end of its start-up. */
  peakRssMiB: number
  /** Server VmHWM during its start-up (before VmHWM was reset). */
  startupPeakRssMiB: number
  /** Server VmRSS right after start-up, before any upload. */
  idleRssMiB: number
  /** Server CPU seconds spent during the upload (user + system). */
  serverCpuS: number
  /** Load generator CPU seconds during the upload. */
  clientCpuS: number
  /** CPU seconds the rest of the machine (other processes, the kernel) was busy during the upload. */
  othersCpuS: number
  /** How many processes the server ran as (itself and its children) at the end of the run. */
  processes: number
  /** Milliseconds of the creation POST, where there is one. */
  postMs?: number
  error?: string
}

export const CHUNK = 8 * MiB

/** Drops the written files and flushes, so every run starts with a clean page cache state. */
export async function cleanDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  spawnSync('sync')
}

export function oursEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  // BENCH_OURS_DATABASE_URL: run our server on Postgres (the production shape) instead of the embedded PGlite.
  const database: Record<string, string> = process.env.BENCH_OURS_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_OURS_DATABASE_URL } : {}
  // The upload sections measure moving bytes: no parser process competes for the CPU (the pipeline section measures that).
  return childEnv({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', WORKER_CONCURRENCY: '0', ALLOWED_TYPES: '*', UPLOAD_RATE_LIMIT: '0', ...database, ...extra })
}

export async function startServerFor(kind: 'sink' | 'ours' | 'bare', dir: string): Promise<Child> {
  if (kind === 'sink') return startChild('sink', path.join(ROOT, 'bench/servers/sink.ts'), childEnv({ SINK_DIR: dir }))
  if (kind === 'bare') return startChild('bare', path.join(ROOT, 'bench/servers/bare-tus.ts'), childEnv({ TUS_DIR: dir }))
  return startChild('ours', path.join(ROOT, 'server/main.ts'), oursEnv(dir))
}

/** Runs `work` against a started child and collects the server and client facts (the caller stops the child). */
export async function measure(child: Child, round: number, config: string, bytes: number, work: () => Promise<unknown>): Promise<Run> {
  const before = child.facts()
  const busyBefore = machineBusySeconds()
  const clientBefore = process.cpuUsage()
  const t0 = performance.now()
  let error: string | undefined
  let postMs: number | undefined
  try {
    const result = await work()
    if (result && typeof result === 'object' && 'postMs' in result && typeof result.postMs === 'number') postMs = result.postMs
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
  }
  const seconds = (performance.now() - t0) / 1000
  const client = process.cpuUsage(clientBefore)
  const after = child.facts()
  const serverCpuS = after.cpuSeconds - before.cpuSeconds
  const clientCpuS = (client.user + client.system) / 1e6
  return {
    config,
    round,
    mibps: error ? Number.NaN : bytes / MiB / seconds,
    seconds,
    peakRssMiB: after.peakRssMiB,
    startupPeakRssMiB: child.atStart.peakRssMiB,
    processes: 'processes' in after ? Number(after.processes) : 1,
    idleRssMiB: child.atStart.rssMiB,
    serverCpuS,
    clientCpuS,
    // /proc/stat and /proc/<pid>/stat tick separately: clamp the rounding below zero.
    othersCpuS: Math.max(0, machineBusySeconds() - busyBefore - serverCpuS - clientCpuS),
    postMs,
    error,
  }
}

export async function runDiskOnce(config: DiskConfig, round: number, file: string, size: number, workDir: string): Promise<Run> {
  const dir = await mkdtemp(path.join(workDir, `${config}-`))
  const kind = config === 'sink' ? 'sink' : config.startsWith('ours') ? 'ours' : 'bare'
  const child = await startServerFor(kind, dir)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  try {
    return await measure(child, round, config, size, async () => {
      if (kind === 'sink') return putFile(`${child.url}/upload`, file, size, agent)
      const chunk = config.endsWith('-1') ? Number.POSITIVE_INFINITY : CHUNK
      return tusUpload(`${child.url}/files`, file, size, chunk, agent)
    })
  } finally {
    agent.destroy()
    await child.stop()
    await cleanDir(dir)
  }
}

export async function runDiskSection(opts: { file: string; size: number; rounds: number; workDir: string; log: (line: string) => void }): Promise<Run[]> {
  const runs: Run[] = []
  for (let round = 1; round <= opts.rounds; round++) {
    for (const config of DISK_CONFIGS) {
      const run = await runDiskOnce(config, round, opts.file, opts.size, opts.workDir)
      runs.push(run)
      opts.log(`  disk round ${round} ${config.padEnd(7)} ${run.error ? `ERROR ${run.error}` : `${run.mibps.toFixed(0)} MiB/s`}  peak RSS ${run.peakRssMiB.toFixed(0)} MiB  CPU-s server ${run.serverCpuS.toFixed(1)} client ${run.clientCpuS.toFixed(1)} others ${run.othersCpuS.toFixed(1)}`)
    }
  }
  return runs
}
