/** Section 4 of bench/RESULTS.md: the pipeline's parse throughput and time to ready. Aims are printed, never asserted. */
import { PARSE_CONFIGS, PARSER_AIM_MIBPS, type ParseRun, type PipelineResult, READY_AIM_MS } from './pipeline.ts'
import type { ReadySample } from './pipeline-ready.ts'
import { aim, fmt, list, max, median, MiB, percentile } from './stats.ts'

const LABELS: Record<string, string> = {
  read: 'plain read (fs.createReadStream, 64 KiB chunks)',
  parser: '`parseCsv` in the benchmark process',
  sandbox: '`parseInSandbox` (child process, as the server runs it)',
}

/** num/den MiB/s per round, in rounds where both succeeded. */
function paired(runs: ParseRun[], num: string, den: string): number[] {
  const out: number[] = []
  for (const a of runs.filter((r) => r.config === num)) {
    const b = runs.find((r) => r.config === den && r.round === a.round)
    if (b && !a.error && !b.error) out.push(a.mibps / b.mibps)
  }
  return out
}

function parseTables(md: string[], summary: string[], p: PipelineResult): void {
  const { csv, parse } = p
  md.push(`### 4a. Parsing one ${fmt(csv.bytes / MiB)} MiB CSV (${csv.rows} rows x ${csv.columns} columns)`, '')
  md.push('Generated once per run (bench/csv-source.ts: integers, decimals, ISO dates and times, short text, quoted fields with commas and doubled quotes, some empty cells, some non-ASCII) and read from the page cache, three ways per round on the same file. `parseCsv` gets a file Readable, DEFAULT_PARSE_LIMITS and a temp dir; `parseInSandbox` gets the same Readable and { timeoutMs 600 000, memoryBytes 3 GiB }: process spawn, stdin pipe, type detection, `parseCsv`, the result over IPC. Every parse must report every row and column. Peak RSS: VmHWM of the benchmark process (reset before each run) for the first two, and what the run added to the RSS it started with; of the parser child (polled every 50 ms) for the sandbox, all of it added. CPU-s: the benchmark process plus the reaped parser child.', '')
  md.push('| configuration | MiB/s per round | median MiB/s | peak RSS of the reading process, median (max) | added by the run, median | CPU-s per GiB, median | CPU-s used by other processes during the run, median |', '|---|---|---|---|---|---|---|')
  for (const config of PARSE_CONFIGS) {
    const rs = parse.filter((r) => r.config === config)
    if (rs.length === 0) continue
    const errors = rs.filter((r) => r.error).length
    md.push(
      `| ${LABELS[config]} | ${rs.map((r) => (r.error ? 'error' : fmt(r.mibps))).join(', ')}${errors ? ` (${errors} failed)` : ''} | **${fmt(median(rs.map((r) => r.mibps)))}** | ` +
        `${fmt(median(rs.map((r) => r.peakRssMiB)))} (${fmt(max(rs.map((r) => r.peakRssMiB)))}) MiB | ${fmt(median(rs.map((r) => r.addedRssMiB)))} MiB | ${fmt(median(rs.map((r) => (r.cpuS * 1024 * MiB) / csv.bytes)), 2)} | ${fmt(median(rs.map((r) => r.othersCpuS)), 1)} |`,
    )
    for (const r of rs) if (r.error) md.push(`|  | round ${r.round} error: ${r.error.replaceAll('|', '/').slice(0, 200)} |`)
  }
  md.push('', '| ratio (paired within a round) | per round | median |', '|---|---|---|')
  for (const [label, num, den] of [['parseCsv / plain read', 'parser', 'read'], ['parseInSandbox / plain read', 'sandbox', 'read'], ['parseInSandbox / parseCsv', 'sandbox', 'parser']] as const) {
    const rs = paired(parse, num, den)
    md.push(`| ${label} | ${list(rs, 2)} | **${fmt(median(rs), 2)}** |`)
  }
  md.push('')
  const lines = (['parser', 'sandbox'] as const).map((c) => {
    const rs = parse.filter((r) => r.config === c)
    return `${c === 'parser' ? 'parseCsv' : 'parseInSandbox'} median: ${aim(median(rs.map((r) => r.mibps)), '>=', PARSER_AIM_MIBPS, 0, ' MiB/s')} [rounds: ${list(rs.map((r) => r.mibps))}]`
  })
  md.push(...lines.map((l) => `- ${l}`), '')
  summary.push(`Pipeline, ${fmt(csv.bytes / MiB)} MiB CSV (median MiB/s): ${PARSE_CONFIGS.map((c) => `${c} ${fmt(median(parse.filter((r) => r.config === c).map((r) => r.mibps)))}`).join(', ')}`, ...lines.map((l) => `  ${l}`))
}

function readyRow(label: string, ss: ReadySample[]): string {
  const ms = ss.map((s) => s.ms)
  const first = ss.filter((s) => s.index === 1).map((s) => s.ms)
  return `| ${label} | ${ss.length} | ${fmt(percentile(ms, 50))} | ${fmt(percentile(ms, 90))} | ${fmt(max(ms))} | ${list(first)} | ${fmt(percentile(ss.map((s) => s.claimMs), 50))} | ${fmt(percentile(ss.map((s) => s.jobMs), 50))} | ${fmt(percentile(ss.map((s) => s.ms - s.jobMs), 50))} |`
}

function readyTable(md: string[], summary: string[], p: PipelineResult, uploads: number): void {
  const { readyCsv, ready } = p
  md.push(`### 4b. Time from an upload's last byte to \`ready\`: ${readyCsv.bytes}-byte CSV (${readyCsv.rows} rows), ${uploads} uploads per round`, '')
  md.push('Ours = `node server/main.ts` (disk storage, PGlite unless BENCH_OURS_DATABASE_URL, WORKER_CONCURRENCY=2, no LLM: offline descriptions), a fresh server and DATA_DIR per round. Each upload: POST /files (filename and filetype metadata), one PATCH with the whole file; t0 = its 204; t1 = the answer of GET /api/files/:id?wait=30 saying `ready` (with every row counted). Uploads one after another: latency, not queueing. "claim" = processing_started_at - uploaded_at (database clock); "job" = the worker\'s `job.done` ms (storage read, sandboxed parse, describe, store); "rest" = t1 - t0 - job (wake-up, claim, long-poll answer).', '')
  md.push('| round | uploads | last byte -> ready p50 ms | p90 ms | max ms | first upload of the round, ms | claim p50 ms | job p50 ms | rest p50 ms |', '|---|---|---|---|---|---|---|---|---|')
  const rounds = [...new Set(ready.map((s) => s.round))]
  for (const round of rounds) md.push(readyRow(String(round), ready.filter((s) => s.round === round)))
  if (rounds.length > 1) md.push(readyRow('**all rounds**', ready))
  md.push('')
  const p50 = percentile(ready.map((s) => s.ms), 50)
  const line = `last byte -> ready, p50 over all uploads: ${aim(p50, '<', READY_AIM_MS, 0, ' ms')}; p90 ${fmt(percentile(ready.map((s) => s.ms), 90))} ms, max ${fmt(max(ready.map((s) => s.ms)))} ms; per-round p50 ${list(rounds.map((r) => percentile(ready.filter((s) => s.round === r).map((s) => s.ms), 50)))} ms`
  md.push(`- ${line}`)
  summary.push(`Pipeline, ${readyCsv.bytes}-byte CSV upload:`, `  ${line}`)
  if (p.readyError) {
    md.push(`- FAILED: ${p.readyError.split('\n')[0]?.slice(0, 300)} (later rounds of this measurement skipped)`)
    summary.push(`  FAILED: ${p.readyError.split('\n')[0]?.slice(0, 300)}`)
  }
  md.push('')
}

export function renderPipeline(p: PipelineResult, uploads: number): { md: string[]; summary: string[] } {
  const md: string[] = ['## 4. Processing pipeline: CSV parse throughput and time to `ready`', '']
  const summary: string[] = []
  parseTables(md, summary, p)
  readyTable(md, summary, p, uploads)
  return { md, summary }
}
