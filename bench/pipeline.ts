/**
 * Section 4: the processing pipeline. Per round, interleaved: one generated
 * CSV read three ways (plain read, parseCsv in this process, parseInSandbox:
 * the server's own sandboxed path), then a fresh server of ours with its
 * worker on, timed from each upload's last byte to `ready` (pipeline-ready.ts).
 */
import { createReadStream, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { parseInSandbox } from '../server/pipeline/parse-process.ts'
import { DEFAULT_PARSE_LIMITS } from '../server/pipeline/parsed.ts'
import { parseCsv } from '../server/pipeline/parsers/csv.ts'
import { type CsvSource, writeCsv } from './csv-source.ts'
import { type ReadySample, runReadyRound } from './pipeline-ready.ts'
import { machineBusySeconds, procFacts, processTree, resetPeak } from './proc.ts'
import { MiB, percentile } from './stats.ts'

export const PARSE_CONFIGS = ['read', 'parser', 'sandbox'] as const
export type ParseConfig = (typeof PARSE_CONFIGS)[number]

export type ParseRun = {
  config: ParseConfig
  round: number
  mibps: number
  seconds: number
  /** Peak RSS of the process that parsed: this one for read/parser, the parser child for sandbox (NaN when unseen). */
  peakRssMiB: number
  /** Of the peak, what the run added: above this process's RSS at the start, or the whole child for sandbox. */
  addedRssMiB: number
  /** CPU seconds of this process and its reaped children (the parser child) during the run. */
  cpuS: number
  othersCpuS: number
  error?: string
}

export type PipelineResult = { csv: CsvSource; readyCsv: CsvSource; parse: ParseRun[]; ready: ReadySample[]; readyError?: string }

/** What the issue asks of the parser on this machine, and of the time to ready. */
export const PARSER_AIM_MIBPS = 60
export const READY_AIM_MS = 1000
/** "A 10 MB CSV", as the issue says: decimal megabytes. */
const READY_CSV_BYTES = 10_000_000
const READ_CHUNK = 64 * 1024
const SANDBOX = { timeoutMs: 600_000, memoryBytes: 3 * 1024 ** 3 }

const open = (csv: CsvSource) => createReadStream(csv.file, { highWaterMark: READ_CHUNK })

/** Fails the run unless the parser saw every row and column of the generated file. */
function checkCounts(csv: CsvSource, facts: { kind: string }): void {
  const { rows, columns } = facts as { rows?: number; columns?: number }
  if (facts.kind !== 'csv' || rows !== csv.rows || columns !== csv.columns) {
    throw new Error(`expected csv with ${csv.rows} rows x ${csv.columns} columns, got ${facts.kind} with ${rows} x ${columns}`)
  }
}

async function readAll(csv: CsvSource): Promise<void> {
  let bytes = 0
  for await (const chunk of open(csv)) bytes += (chunk as Buffer).length
  if (bytes !== csv.bytes) throw new Error(`read ${bytes} bytes of ${csv.bytes}`)
}

/**
 * Follows the parser child (the only process this one spawns meanwhile) and
 * keeps its VmHWM; prlimit and `sh -c ulimit` exec node in place, so the pid is the parser's.
 */
function watchChildPeak(): () => number {
  let pid: number | undefined
  let peak = Number.NaN
  const timer = setInterval(() => {
    // The children file needs CONFIG_PROC_CHILDREN; a walk of /proc does without, until the child is found.
    pid ??= childPids(process.pid)[0] ?? processTree(process.pid)[1]
    if (pid === undefined) return
    const seen = procFacts(pid).peakRssMiB
    if (Number.isFinite(seen)) peak = Number.isFinite(peak) ? Math.max(peak, seen) : seen
  }, 50)
  return () => {
    clearInterval(timer)
    return peak
  }
}

/** Direct children, from /proc/<pid>/task/<pid>/children (one small read, unlike a walk of /proc). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

async function parseOnce(config: ParseConfig, round: number, csv: CsvSource, tmpRoot: string): Promise<ParseRun> {
  const tmpDir = await mkdtemp(path.join(tmpRoot, `${config}-`))
  const own = resetPeak(process.pid)
  const stopWatch = config === 'sandbox' ? watchChildPeak() : undefined
  const startRss = process.memoryUsage().rss
  let sampled = startRss
  // Fallback where VmHWM cannot be reset: sampled RSS, which can miss a short peak.
  const sampler = own ? undefined : setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 50)
  const cpuBefore = procFacts(process.pid).cpuSeconds
  const busyBefore = machineBusySeconds()
  const t0 = performance.now()
  let error: string | undefined
  try {
    if (config === 'read') await readAll(csv)
    else if (config === 'parser') checkCounts(csv, (await parseCsv({ kind: 'csv', mediaType: 'text/csv', source: open(csv), size: csv.bytes, filename: 'bench.csv', limits: DEFAULT_PARSE_LIMITS, tmpDir })).facts)
    else checkCounts(csv, (await parseInSandbox({ source: open(csv), size: csv.bytes, filename: 'bench.csv', declaredType: 'text/csv', limits: DEFAULT_PARSE_LIMITS }, { ...SANDBOX, tmpRoot: tmpDir })).facts)
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpuS = procFacts(process.pid).cpuSeconds - cpuBefore
  const busy = machineBusySeconds() - busyBefore
  clearInterval(sampler)
  const peakRssMiB = stopWatch ? stopWatch() : own ? procFacts(process.pid).peakRssMiB : sampled / MiB
  const addedRssMiB = stopWatch ? peakRssMiB : peakRssMiB - startRss / MiB
  await rm(tmpDir, { recursive: true, force: true })
  return { config, round, mibps: error ? Number.NaN : csv.bytes / MiB / seconds, seconds, peakRssMiB, addedRssMiB, cpuS, othersCpuS: Math.max(0, busy - cpuS), error }
}

export async function runPipelineSection(opts: { rounds: number; csvMiB: number; readyUploads: number; workDir: string; log: (line: string) => void }): Promise<PipelineResult> {
  const { rounds, log } = opts
  const t0 = performance.now()
  const csv = await writeCsv(path.join(opts.workDir, 'pipeline.csv'), opts.csvMiB * MiB)
  const readyCsv = await writeCsv(path.join(opts.workDir, 'ready.csv'), READY_CSV_BYTES, 2)
  log(`  generated ${(csv.bytes / MiB).toFixed(0)} MiB CSV (${csv.rows} rows x ${csv.columns} columns) and a ${readyCsv.bytes}-byte CSV (${readyCsv.rows} rows) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const tmpRoot = await mkdtemp(path.join(opts.workDir, 'parse-tmp-'))
  const result: PipelineResult = { csv, readyCsv, parse: [], ready: [] }
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const config of PARSE_CONFIGS) {
        const run = await parseOnce(config, round, csv, tmpRoot)
        result.parse.push(run)
        log(`  pipeline round ${round} ${config.padEnd(7)} ${run.error ? `ERROR ${run.error}` : `${run.mibps.toFixed(0)} MiB/s`}  peak RSS ${run.peakRssMiB.toFixed(0)} MiB (+${run.addedRssMiB.toFixed(0)})  CPU-s ${run.cpuS.toFixed(1)} others ${run.othersCpuS.toFixed(1)}`)
      }
      if (result.readyError) continue
      try {
        const samples = await runReadyRound({ round, csv: readyCsv, uploads: opts.readyUploads, workDir: opts.workDir })
        result.ready.push(...samples)
        const ms = samples.map((s) => s.ms)
        log(`  pipeline round ${round} ready   ${samples.length} x ${readyCsv.bytes} B: last byte -> ready p50 ${percentile(ms, 50).toFixed(0)} ms, p90 ${percentile(ms, 90).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms; job p50 ${percentile(samples.map((s) => s.jobMs), 50).toFixed(0)} ms`)
      } catch (err) {
        // A file that ends `failed` (or never ready) fails this measurement; the parse figures stand.
        result.readyError = `round ${round}: ${err instanceof Error ? err.message : String(err)}`
        log(`  pipeline round ${round} ready   ERROR ${result.readyError}`)
      }
    }
  } finally {
    await rm(tmpRoot, { recursive: true, force: true })
  }
  return result
}
