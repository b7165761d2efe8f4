/** Turns the measured runs into bench/RESULTS.md and a short console summary. Aims are printed, never asserted. */
import type { ConcurrencyRun } from './concurrency.ts'
import type { Run } from './disk.ts'
import type { PipelineResult } from './pipeline.ts'
import { renderPipeline } from './pipeline-report.ts'
import type { S3Run } from './s3.ts'
import { aim, fmt, list, max, median, percentile } from './stats.ts'

export type ReportInput = {
  command: string
  date: string
  machine: string[]
  settings: string[]
  disk?: { runs: Run[]; sizeMiB: number }
  s3?: { runs: S3Run[]; sizeMiB: number; partMiB: number; database: string }
  s3Skipped?: string
  concurrency?: { runs: ConcurrencyRun[]; n: number }
  pipeline?: { result: PipelineResult; readyUploads: number }
}

type Out = { md: string[]; summary: string[] }

const byConfig = (runs: Run[], config: string) => runs.filter((r) => r.config === config)

/** num/den per round, in rounds where both succeeded. */
function paired(runs: Run[], num: string, den: string): number[] {
  const out: number[] = []
  for (const a of byConfig(runs, num)) {
    const b = runs.find((r) => r.config === den && r.round === a.round)
    if (b && !a.error && !b.error) out.push(a.mibps / b.mibps)
  }
  return out
}

function throughputTable(out: Out, runs: Run[], configs: readonly string[], labels: Record<string, string>, extra?: (rs: Run[]) => string): void {
  out.md.push('| configuration | MiB/s per round | median MiB/s | server peak RSS during the upload, median (max) | server RSS idle after start-up | server peak RSS during start-up | server CPU-s per GiB | client CPU-s per GiB | CPU-s used by other processes during the run, median | creation POST, median ms |' + (extra ? ' object store CPU-s per GiB |' : ''))
  out.md.push('|---|---|---|---|---|---|---|---|---|---|' + (extra ? '---|' : ''))
  for (const config of configs) {
    const rs = byConfig(runs, config)
    if (rs.length === 0) continue
    const perGiB = (cpuS: number, r: Run) => (cpuS * 1024) / (r.mibps * r.seconds) // CPU-s per GiB moved
    const errors = rs.filter((r) => r.error).length
    const m = (f: (r: Run) => number, digits = 0) => fmt(median(rs.map(f)), digits)
    out.md.push(
      `| ${labels[config] ?? config} | ${rs.map((r) => (r.error ? 'error' : fmt(r.mibps))).join(', ')}${errors ? ` (${errors} failed)` : ''} | **${m((r) => r.mibps)}** | ` +
        `${m((r) => r.peakRssMiB)} (${fmt(max(rs.map((r) => r.peakRssMiB)))}) MiB${max(rs.map((r) => r.processes)) > 1 ? `, ${max(rs.map((r) => r.processes))} processes` : ''} | ${m((r) => r.idleRssMiB)} MiB | ${m((r) => r.startupPeakRssMiB)} MiB | ` +
        `${m((r) => perGiB(r.serverCpuS, r), 2)} | ${m((r) => perGiB(r.clientCpuS, r), 2)} | ${m((r) => r.othersCpuS, 1)} | ${m((r) => r.postMs ?? Number.NaN, 1)} |` +
        (extra ? ` ${extra(rs)} |` : ''),
    )
    for (const r of rs) if (r.error) out.md.push(`|  | round ${r.round} error: ${r.error.replaceAll('|', '/').slice(0, 200)} |`)
  }
  out.md.push('')
}

function ratioTable(out: Out, runs: Run[], rows: [string, string, string, number | undefined][]): void {
  out.md.push('| ratio (paired within a round) | per round | median | aim |', '|---|---|---|---|')
  for (const [label, num, den, target] of rows) {
    const rs = paired(runs, num, den)
    const m = median(rs)
    out.md.push(`| ${label} | ${list(rs, 2)} | **${fmt(m, 2)}** | ${target === undefined ? '-' : aim(m, '>=', target)} |`)
    if (target !== undefined) out.summary.push(`  ${label}: ${aim(m, '>=', target)}  [rounds: ${list(rs, 2)}]`)
  }
  out.md.push('')
}

function peakAim(out: Out, label: string, runs: Run[], limit: number): void {
  const peak = max(runs.map((r) => r.peakRssMiB))
  const startup = max(runs.map((r) => r.startupPeakRssMiB))
  const idle = median(runs.map((r) => r.idleRssMiB))
  const added = runs.map((r) => r.peakRssMiB - r.idleRssMiB)
  const line = `${label}: during the upload ${aim(peak, '<', limit, 0, ' MiB')} (max over rounds); idle after start-up ${fmt(idle)} MiB, so the upload itself added ${fmt(median(added))} MiB (median; max ${fmt(max(added))}); start-up peak ${fmt(startup)} MiB`
  out.md.push(`- ${line}`)
  out.summary.push(`  ${line}`)
}

function diskSection(out: Out, disk: NonNullable<ReportInput['disk']>): void {
  const { runs, sizeMiB } = disk
  out.md.push(`## 1. One ${sizeMiB} MiB upload to local disk`, '')
  out.md.push('Servers: raw sink = `http.createServer` piping the body to a file (bench/servers/sink.ts); ours = `node server/main.ts` (disk storage + PGlite, fresh DATA_DIR per run); bare = `@tus/server` + `FileStore` with `server.listen()` (bench/servers/bare-tus.ts). One lean client (bench/lean-tus-client.ts) for all. Server RSS and CPU cover the server process and its child processes (a PGlite process, say); the peak of several processes is the sum of their peaks.', '')
  const labels = { sink: 'raw disk sink, one request', 'ours-1': 'ours, one PATCH', 'ours-8': 'ours, 8 MiB chunks', 'bare-1': 'bare @tus/server, one PATCH', 'bare-8': 'bare @tus/server, 8 MiB chunks' }
  throughputTable(out, runs, Object.keys(labels), labels)
  out.summary.push(`Disk, one ${sizeMiB} MiB upload (median MiB/s): ${Object.keys(labels).map((c) => `${c} ${fmt(median(byConfig(runs, c).map((r) => r.mibps)))}`).join(', ')}`)
  ratioTable(out, runs, [
    ['ours one PATCH / raw sink', 'ours-1', 'sink', 0.9],
    ['ours 8 MiB chunks / raw sink', 'ours-8', 'sink', 0.7],
    ['ours one PATCH / bare one PATCH', 'ours-1', 'bare-1', 0.95],
    ['ours 8 MiB chunks / bare 8 MiB chunks', 'ours-8', 'bare-8', 0.95],
    ['bare one PATCH / raw sink', 'bare-1', 'sink', undefined],
    ['bare 8 MiB chunks / raw sink', 'bare-8', 'sink', undefined],
  ])
  peakAim(out, `our server's peak RSS, one ${sizeMiB} MiB upload (one PATCH)`, byConfig(runs, 'ours-1'), 200)
  peakAim(out, `our server's peak RSS, one ${sizeMiB} MiB upload (8 MiB chunks)`, byConfig(runs, 'ours-8'), 200)
  out.md.push('')
}

function s3Section(out: Out, s3: NonNullable<ReportInput['s3']>): void {
  const { runs, sizeMiB, partMiB, database } = s3
  out.md.push(`## 2. One ${sizeMiB} MiB upload to S3 (\`${process.env.S3_ENDPOINT ?? 'AWS'}\`, bucket \`${process.env.S3_BUCKET}\`)`, '')
  out.md.push(`Raw SDK = \`@aws-sdk/client-s3\` multipart upload from the benchmark process (${partMiB} MiB parts streamed from the file, 4 in flight; checksums WHEN_REQUIRED, path style). Ours = \`node server/main.ts\` with S3 storage (S3_PART_SIZE ${partMiB} MiB) and ${database}. "Object store CPU" is the CPU time of the local Swift processes during the run (not counted in "other processes").`, '')
  const labels = { 'raw-sdk': 'raw SDK multipart upload', 'ours-1': 'ours, one PATCH', 'ours-8': 'ours, 8 MiB chunks' }
  throughputTable(out, runs, Object.keys(labels), labels, (rs) => fmt(median(rs.map((r) => ((r as S3Run).storeCpuS * 1024) / sizeMiB)), 2))
  out.summary.push(`S3, one ${sizeMiB} MiB upload (median MiB/s): ${Object.keys(labels).map((c) => `${c} ${fmt(median(byConfig(runs, c).map((r) => r.mibps)))}`).join(', ')}`)
  ratioTable(out, runs, [
    ['ours one PATCH / raw SDK', 'ours-1', 'raw-sdk', 0.8],
    ['ours 8 MiB chunks / raw SDK', 'ours-8', 'raw-sdk', 0.8],
  ])
}

function concurrencySection(out: Out, c: NonNullable<ReportInput['concurrency']>): void {
  out.md.push(`## 3. ${c.n} concurrent 8 MiB uploads (POST + one PATCH each) to local disk`, '')
  out.md.push('All uploads start at once from one process (one keep-alive http.Agent with enough sockets). A separate process (bench/head-probe.ts) sends a HEAD every 20 ms, open loop, round robin over 8 uploads created before the load with their first MiB written (interrupted uploads waiting to be resumed), and 10 ms after every 5th HEAD an OPTIONS /files, which touches no storage: the control that tells event-loop, accept and CPU delay from storage delay. Each probe request goes out at once on a free keep-alive connection or a new one. "idle" = HEADs in the second before the load.', '')
  out.md.push('| server | total MiB/s per round | median MiB/s | upload errors | per-upload p50 / p99 (s) | server peak RSS during the load, max (idle after start-up) | server CPU-s | client CPU-s | CPU-s of other processes | HEAD idle p50 | HEAD under load p50 / p99 / max (ms) | HEADs under load (failed) | control: OPTIONS under load p50 / p99 (ms) |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|')
  for (const kind of ['ours', 'bare']) {
    const rs = c.runs.filter((r) => r.config === kind)
    if (rs.length === 0) continue
    const load = rs.flatMap((r) => r.headLoad)
    const options = rs.flatMap((r) => r.optionsLoad)
    out.md.push(
      `| ${kind === 'ours' ? 'ours' : 'bare @tus/server'} | ${list(rs.map((r) => r.mibps))} | **${fmt(median(rs.map((r) => r.mibps)))}** | ${rs.reduce((s, r) => s + r.errors, 0)} | ` +
        `${fmt(median(rs.map((r) => r.uploadP50s)), 2)} / ${fmt(median(rs.map((r) => r.uploadP99s)), 2)} | ${fmt(max(rs.map((r) => r.peakRssMiB)))} MiB (${fmt(median(rs.map((r) => r.idleRssMiB)))} MiB)${max(rs.map((r) => r.processes)) > 1 ? `, ${max(rs.map((r) => r.processes))} processes` : ''} | ` +
        `${fmt(median(rs.map((r) => r.serverCpuS)), 1)} | ${fmt(median(rs.map((r) => r.clientCpuS)), 1)} | ${fmt(median(rs.map((r) => r.othersCpuS)), 1)} | ` +
        `${fmt(percentile(rs.flatMap((r) => r.headIdle), 50), 1)} ms | ${fmt(percentile(load, 50))} / **${fmt(percentile(load, 99))}** / ${fmt(max(load))} | ${load.length} (${rs.reduce((s, r) => s + r.headErrors, 0)}) | ${fmt(percentile(options, 50))} / ${fmt(percentile(options, 99))} |`,
    )
    for (const r of rs) if (r.errorSample) out.md.push(`|  | round ${r.round}, first error: ${r.errorSample.replaceAll('|', '/').slice(0, 200)} |`)
  }
  out.md.push('')
  const ours = c.runs.filter((r) => r.config === 'ours')
  const load = ours.flatMap((r) => r.headLoad)
  const ratio = paired(c.runs, 'ours', 'bare')
  const lines = [
    `ours / bare total MiB/s (paired): per round ${list(ratio, 2)}, median ${fmt(median(ratio), 2)}`,
    `our HEAD p99 under load (all rounds pooled): ${aim(percentile(load, 99), '<', 100, 0, ' ms')}; per round ${list(ours.map((r) => percentile(r.headLoad, 99)))} ms`,
    `our server's peak RSS with ${c.n} uploads: ${aim(max(ours.map((r) => r.peakRssMiB)), '<', 300, 0, ' MiB')} (idle after start-up: ${fmt(median(ours.map((r) => r.idleRssMiB)))} MiB)`,
    `errors: ${ours.reduce((s, r) => s + r.errors, 0)} failed uploads and ${ours.reduce((s, r) => s + r.headErrors, 0)} failed HEADs on ours; ${c.runs.filter((r) => r.config === 'bare').reduce((s, r) => s + r.errors, 0)} failed uploads on bare`,
  ]
  out.md.push(...lines.map((l) => `- ${l}`), '')
  out.summary.push(`Concurrency, ${c.n} x 8 MiB (median total MiB/s): ours ${fmt(median(ours.map((r) => r.mibps)))}, bare ${fmt(median(c.runs.filter((r) => r.config === 'bare').map((r) => r.mibps)))}`, ...lines.map((l) => `  ${l}`))
}

export function renderReport(input: ReportInput): { markdown: string; summary: string } {
  const out: Out = { md: [], summary: [] }
  out.md.push('# filedock benchmark results', '', `- Command: \`${input.command}\``, `- Date: ${input.date}`, ...input.machine.map((m) => `- ${m}`), ...input.settings.map((s) => `- ${s}`), '')
  out.md.push('Every figure below was measured in this run. Page-cache write speed on these VMs swings up to 2x between rounds and runs, so compare the ratios (paired within a round), not absolute MiB/s across runs. Aims are targets, not assertions.', '')
  if (input.disk) diskSection(out, input.disk)
  if (input.s3) s3Section(out, input.s3)
  else if (input.s3Skipped) out.md.push('## 2. S3', '', input.s3Skipped, '')
  if (input.concurrency) concurrencySection(out, input.concurrency)
  if (input.pipeline) {
    const { md, summary } = renderPipeline(input.pipeline.result, input.pipeline.readyUploads)
    out.md.push(...md)
    out.summary.push(...summary)
  }
  return { markdown: `${out.md.join('\n')}\n`, summary: out.summary.join('\n') }
}
