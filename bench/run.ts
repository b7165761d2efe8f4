/**
 * `npm run bench`: measures filedock against the raw disk, a bare @tus/server
 * and (with S3_BUCKET set) a raw SDK multipart upload, and its processing
 * pipeline (CSV parse throughput, last byte to `ready`); writes bench/RESULTS.md.
 *
 * Environment (all optional):
 *   BENCH_ROUNDS=5          rounds; configurations are interleaved within each
 *   BENCH_SIZE_MIB=1024     size of the single upload (section 1)
 *   BENCH_S3_SIZE_MIB=256   size of the S3 upload (section 2; at most BENCH_SIZE_MIB)
 *   BENCH_S3_PART_MIB=8     S3 part size, for our server and the raw SDK alike
 *   BENCH_CONCURRENCY=200   concurrent 8 MiB uploads (section 3)
 *   BENCH_CSV_MIB=200       size of the generated CSV parsed three ways (section 4)
 *   BENCH_READY_UPLOADS=10  10 MB CSV uploads per round timed from last byte to `ready` (section 4)
 *   BENCH_ONLY=disk,s3,concurrency,pipeline   sections to run (`form`, opt-in: bench/form-upload.ts)
 *   BENCH_FORM_GIB=2        size of the form-vs-tus upload on disk (section form); BENCH_FORM_S3_GIB on S3
 *   BENCH_LOG_LEVEL=info    LOG_LEVEL of our server
 *   BENCH_CPU_PROF=<dir>    write a V8 CPU profile of every server child there
 *   BENCH_NODE_FLAGS=...    extra Node flags for every server child (e.g. --max-semi-space-size=1)
 *   BENCH_RESULTS=<file>    where to write the markdown (default bench/RESULTS.md; bench/RESULTS-form.md for BENCH_ONLY=form)
 *   BENCH_OURS_DATABASE_URL=<url>  our server on this Postgres for the disk and concurrency sections (default: PGlite)
 */
import { spawnSync } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { open, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runConcurrencySection } from './concurrency.ts'
import { runDiskSection } from './disk.ts'
import { type FormResult, formSettings, renderForm, runFormSection } from './form-upload.ts'
import { runPipelineSection } from './pipeline.ts'
import { ROOT } from './proc.ts'
import { renderReport, type ReportInput } from './report.ts'
import { runS3Section } from './s3.ts'
import { MiB } from './stats.ts'

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name}=${raw}: expected a whole number above 0`)
  return n
}

const rounds = intEnv('BENCH_ROUNDS', 5)
const sizeMiB = intEnv('BENCH_SIZE_MIB', 1024)
const s3SizeMiB = Math.min(intEnv('BENCH_S3_SIZE_MIB', 256), sizeMiB)
const s3PartMiB = intEnv('BENCH_S3_PART_MIB', 8)
const concurrency = intEnv('BENCH_CONCURRENCY', 200)
const csvMiB = intEnv('BENCH_CSV_MIB', 200)
const readyUploads = intEnv('BENCH_READY_UPLOADS', 10)
const only = new Set((process.env.BENCH_ONLY ?? 'disk,s3,concurrency,pipeline').split(',').map((s) => s.trim()))
const resultsFile = path.resolve(ROOT, process.env.BENCH_RESULTS ?? ([...only].join() === 'form' ? 'bench/RESULTS-form.md' : 'bench/RESULTS.md'))

const workDir = mkdtempSync(path.join(os.tmpdir(), 'filedock-bench-'))
const cleanup = () => rmSync(workDir, { recursive: true, force: true })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup()
    process.exit(130)
  })
}
const log = (line: string) => process.stdout.write(`${line}\n`)

/** The source bytes: random, written once per benchmark run. */
async function makeSource(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w')
  const block = Buffer.allocUnsafe(16 * MiB)
  try {
    for (let done = 0; done < bytes; done += block.length) {
      const n = Math.min(block.length, bytes - done)
      randomFillSync(block, 0, n)
      await handle.write(block, 0, n)
    }
  } finally {
    await handle.close()
  }
}

function machineFacts(): string[] {
  const cpus = os.cpus()
  const df = spawnSync('df', ['-hT', workDir], { encoding: 'utf8' }).stdout.trim().split('\n').pop()?.split(/\s+/) ?? []
  return [
    `Node ${process.version} (${process.execPath}), ${os.platform()} ${os.release()} ${os.arch()}`,
    `CPU: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), RAM ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `Load average when the benchmark started: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')} (other processes on this machine share its cores; see the "other processes" columns)`,
    `Disk under test: ${workDir} on ${df[0] ?? '?'} (${df[1] ?? '?'}, ${df[2] ?? '?'}, ${df[4] ?? '?'} free); source file, servers' directories and raw sink all on it`,
  ]
}

/** Which server code was measured: others edit server/ while benchmarks run. */
function codeVersion(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? ''
  const commit = git('log', '-1', '--format=%h %s')
  const dirty = git('status', '--porcelain', '--', 'server', 'package.json', 'package-lock.json')
  return `Server code: commit ${commit || 'unknown'}${dirty ? ` plus uncommitted changes in ${dirty.split('\n').length} file(s) under server/ or the package files` : ', no uncommitted changes under server/'}`
}

function commandLine(): string {
  const bench = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => `${k}=${v}`)
  const how = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : `node ${path.relative(ROOT, process.argv[1] ?? 'bench/run.ts')}`
  return `${bench.length ? `${bench.join(' ')} ` : ''}${how}`
}

/** The S3 and database variables the run saw (credentials never shown). */
function environment(): string {
  const shown = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_REGION', 'S3_FORCE_PATH_STYLE'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`)
  const s3 = process.env.S3_BUCKET ? `${shown.join(' ')} (credentials from S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY, not shown)` : 'S3_BUCKET unset, so no S3 section'
  const ours = process.env.BENCH_OURS_DATABASE_URL ? '; our server on Postgres (BENCH_OURS_DATABASE_URL) in the disk and concurrency sections' : ''
  return `Environment: ${s3}; DATABASE_URL ${process.env.DATABASE_URL ? 'set (used for the S3 section only, in a throwaway database)' : 'unset (PGlite everywhere)'}${ours}`
}

async function main(): Promise<void> {
  const started = Date.now()
  const codeAtStart = codeVersion()
  const report: ReportInput = {
    command: commandLine(),
    date: new Date().toISOString(),
    machine: machineFacts(),
    settings: [
      `Settings: ${rounds} round(s); single upload ${sizeMiB} MiB; S3 upload ${s3SizeMiB} MiB in ${s3PartMiB} MiB parts; ${concurrency} concurrent 8 MiB uploads; pipeline: BENCH_CSV_MIB=${csvMiB} MiB CSV parse, BENCH_READY_UPLOADS=${readyUploads} uploads of a 10 MB CSV per round; our server at LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'info'}; server children started with ${process.env.BENCH_NODE_FLAGS ? `\`${process.env.BENCH_NODE_FLAGS}\`` : 'no extra Node flags'}`,
      environment(),
      codeAtStart,
    ],
  }
  const file = path.join(workDir, 'source.bin')
  // Only the upload sections read the random source; the pipeline section writes its own CSV.
  if (['disk', 's3', 'concurrency'].some((s) => only.has(s))) {
    log(`filedock bench: generating ${sizeMiB} MiB of random bytes in ${workDir}`)
    await makeSource(file, sizeMiB * MiB)
  }
  const sections: string[] = []

  if (only.has('disk')) {
    log(`Section 1: one ${sizeMiB} MiB upload to disk, ${rounds} round(s)`)
    try {
      report.disk = { runs: await runDiskSection({ file, size: sizeMiB * MiB, rounds, workDir, log }), sizeMiB }
    } catch (err) {
      sections.push(`disk section failed: ${String(err)}`)
    }
  }
  if (only.has('s3') && process.env.S3_BUCKET) {
    log(`Section 2: one ${s3SizeMiB} MiB upload to S3, ${rounds} round(s)`)
    try {
      const { runs, database } = await runS3Section({ file, size: s3SizeMiB * MiB, partSize: s3PartMiB * MiB, rounds, workDir, log })
      report.s3 = { runs, sizeMiB: s3SizeMiB, partMiB: s3PartMiB, database }
    } catch (err) {
      sections.push(`S3 section failed: ${String(err)}`)
    }
  } else if (only.has('s3')) {
    report.s3Skipped = 'Skipped: S3_BUCKET is not set. Run `set -a; . /tmp/s3.env; set +a; npm run bench` (or set the S3_* variables) to include it.'
  }
  if (only.has('concurrency')) {
    log(`Section 3: ${concurrency} concurrent 8 MiB uploads, ${rounds} round(s)`)
    try {
      report.concurrency = { runs: await runConcurrencySection({ n: concurrency, file, fileSize: sizeMiB * MiB, rounds, workDir, log }), n: concurrency }
    } catch (err) {
      sections.push(`concurrency section failed: ${String(err)}`)
    }
  }
  if (only.has('pipeline')) {
    log(`Section 4: pipeline, a ${csvMiB} MiB CSV parsed three ways and ${readyUploads} 10 MB CSV uploads timed to ready, ${rounds} round(s)`)
    try {
      report.pipeline = { result: await runPipelineSection({ rounds, csvMiB, readyUploads, workDir, log }), readyUploads }
    } catch (err) {
      sections.push(`pipeline section failed: ${String(err)}`)
    }
  }

  let form: FormResult[] | undefined
  if (only.has('form')) {
    log(`Section form: one multipart/form-data upload vs the same bytes by tus, ${rounds} round(s)`)
    report.settings.push(formSettings())
    try {
      form = await runFormSection({ rounds, workDir, log })
    } catch (err) {
      sections.push(`form section failed: ${String(err)}`)
    }
  }

  const codeAtEnd = codeVersion()
  if (codeAtEnd !== codeAtStart) sections.push(`WARNING: the server code changed during the run (now: ${codeAtEnd}); runs after the change measured the new code`)
  report.settings.push(`Total benchmark time: ${((Date.now() - started) / 1000).toFixed(0)} s`, ...sections)
  const { markdown, summary } = renderReport(report)
  const formOut = form ? renderForm(form) : { md: [], summary: [] }
  await writeFile(resultsFile, formOut.md.length ? `${markdown}${formOut.md.join('\n')}\n` : markdown)
  log(`\n${[summary, ...formOut.summary].filter(Boolean).join('\n')}\n${sections.join('\n')}\nWrote ${path.relative(process.cwd(), resultsFile)}`)
}

try {
  await main()
} finally {
  cleanup()
}
