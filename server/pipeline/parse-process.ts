/**
 * Runs the parsers on one file in a child process of its own, because the
 * file is untrusted: a crash, a hang, a memory blow-up or prototype pollution
 * in a parser must not reach the server.
 *
 * - Memory: an OS limit on the child's address space (prlimit --as, else
 *   `ulimit -v`). A worker thread's resourceLimits caps only the V8 heap, and
 *   Buffers are not on it: measured, a 64 MiB-heap worker still took 3 GiB.
 * - Time: the child is killed (SIGKILL) at the deadline.
 * - Secrets: the child gets an empty environment (no DATABASE_URL, no S3 or
 *   LLM keys) and no storage client; bytes arrive on its stdin. It runs as
 *   the server's user, so it is not a barrier against code execution in a
 *   parser (that would need another uid or a container): what it contains
 *   is the damage a file can do through a parser's bugs and resource use.
 * - Files: TMPDIR is a fresh directory for this job, removed afterwards.
 * - Output: only the Parsed summary comes back over IPC (text capped).
 * - One process per file; a pool keeps one started ahead so its start-up is
 *   not on the path from the last byte to `ready`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Readable } from 'node:stream'
import type { Parsed, ParseLimits } from './parsed.ts'

export type ParseRequest = { source: Readable; size: number; filename: string; declaredType: string; limits: ParseLimits }

export type ParseSandbox = {
  timeoutMs: number
  /** Address-space limit of the parser process, in bytes. */
  memoryBytes: number
  /** Where per-job temp directories are made. */
  tmpRoot: string
}

/** Why a parse did not produce facts. `retryable` failures (a crash we cannot blame on the file, the source failing) may succeed later. */
export class ParseFailure extends Error {
  override name = 'ParseFailure'
  readonly code: string
  readonly retryable: boolean

  constructor(code: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.retryable = retryable
  }
}

/** What the child sends back: exactly one of these. */
export type ChildReply = { ok: true; parsed: Parsed } | { ok: false; code: string; message: string }

export type ChildJob = Omit<ParseRequest, 'source'>

const CHILD = fileURLToPath(new URL('./parse-child.ts', import.meta.url))
const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p))
const STDERR_KEPT = 4096
const NODE_RESERVED_MIB = 1228
const TIMEOUT_BYTES_PER_SECOND = 8 * 1024 * 1024

type ParserProcess = {
  child: ChildProcess
  tmpDir: string
  /** Resolves when the process has exited and its pipes are closed, with how it ended. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr(): string
}

async function startParserProcess(sandbox: ParseSandbox): Promise<ParserProcess> {
  const tmpDir = await mkdtemp(path.join(sandbox.tmpRoot, 'parse-'))
  // Node reserves ~1.2 GiB of address space up front; of the rest, 3/4 may be V8 heap and the remainder Buffers.
  const heapMiB = Math.max(256, Math.floor((sandbox.memoryBytes / 1024 / 1024 - NODE_RESERVED_MIB) * 0.75))
  // Type stripping is on by default from Node 23.6/22.18; older 22.x needs the flag the server was started with.
  const inherited = process.execArgv.filter((a) => a === '--experimental-strip-types' || a.startsWith('--no-warnings'))
  const node = [process.execPath, ...inherited, `--max-old-space-size=${heapMiB}`, '--disallow-code-generation-from-strings', CHILD]
  const argv = PRLIMIT
    ? [PRLIMIT, `--as=${sandbox.memoryBytes}`, '--', ...node]
    : ['/bin/sh', '-c', `ulimit -v ${Math.floor(sandbox.memoryBytes / 1024)} && exec "$@"`, 'sh', ...node]
  const [command, ...args] = argv as [string, ...string[]]
  const child = spawn(command, args, {
    stdio: ['pipe', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
    env: { TMPDIR: tmpDir, TMP: tmpDir, TEMP: tmpDir, NODE_OPTIONS: '' },
    cwd: tmpDir,
  })
  let stderr = ''
  // The last lines say why a process died (V8's out-of-memory report comes last): keep the tail.
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEPT)
  })
  // The child may stop reading early (an image needs only its header): that is not an error.
  child.stdin?.on('error', () => {})
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', () => resolve({ code: null, signal: null }))
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  return { child, tmpDir, closed, stderr: () => stderr }
}

async function disposeParserProcess(proc: ParserProcess): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL')
  await proc.closed
  await rm(proc.tmpDir, { recursive: true, force: true })
}

/** Gives one job to a started parser process and waits for its one reply. */
async function runInProcess(proc: ParserProcess, request: ParseRequest, sandbox: ParseSandbox, signal?: AbortSignal): Promise<Parsed> {
  const { source, ...job } = request
  const { child } = proc
  let reply: ChildReply | undefined
  let stopped: ParseFailure | undefined
  const stop = (failure: ParseFailure) => {
    stopped ??= failure
    child.kill('SIGKILL')
  }
  // Streamed formats read to the end of the file however big it is: the limit grows by a second per 8 MiB.
  const timeoutMs = sandbox.timeoutMs + Math.ceil(request.size / TIMEOUT_BYTES_PER_SECOND) * 1000
  const timer = setTimeout(
    () => stop(new ParseFailure('parse_timeout', `reading the file took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`, false)),
    timeoutMs,
  )
  const onAbort = () => stop(new ParseFailure('parse_aborted', 'parsing was stopped', true, { cause: signal?.reason }))
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted) onAbort()
  child.on('message', (msg: ChildReply) => {
    reply ??= msg
  })
  child.once('error', (err) => stop(new ParseFailure('parser_unavailable', `the parser process could not start: ${err.message}`, true, { cause: err })))
  source.on('error', (err) => stop(new ParseFailure('storage_read_failed', `reading the stored file failed: ${err.message}`, true, { cause: err })))
  if (child.connected) {
    source.pipe(child.stdin as NodeJS.WritableStream)
    child.send(job)
  }
  const { code, signal: killedBy } = await proc.closed
  clearTimeout(timer)
  signal?.removeEventListener('abort', onAbort)
  source.unpipe()
  source.destroy()
  if (stopped) throw stopped
  if (reply?.ok) return reply.parsed
  if (reply) throw new ParseFailure(reply.code, reply.message, false)
  throw crashFailure(code, killedBy, proc.stderr())
}

/** Parses one file in a sandboxed child started for it. Throws ParseFailure; never leaves the child or its temp files behind. */
export async function parseInSandbox(request: ParseRequest, sandbox: ParseSandbox, signal?: AbortSignal): Promise<Parsed> {
  const proc = await startParserProcess(sandbox)
  try {
    return await runInProcess(proc, request, sandbox, signal)
  } finally {
    await disposeParserProcess(proc)
  }
}

export type ParserPool = { parse(request: ParseRequest, signal?: AbortSignal): Promise<Parsed>; close(): Promise<void> }

/**
 * Parser processes started ahead of need: a process takes a few hundred
 * milliseconds to start and load its parsers, which would otherwise be most
 * of the time a small file takes. Each process still parses exactly one
 * file (a crafted file cannot leave anything behind for the next one); a
 * spare is started as soon as one is taken.
 */
export function createParserPool(sandbox: ParseSandbox, spares = 1): ParserPool {
  const idle: Promise<ParserProcess>[] = []
  let closed = false
  const refill = () => {
    while (!closed && idle.length < spares) {
      const starting = startParserProcess(sandbox)
      starting.catch(() => {})
      idle.push(starting)
    }
  }
  const take = async (): Promise<ParserProcess> => {
    const next = idle.shift()
    refill()
    const proc = next ? await next.catch(() => undefined) : undefined
    if (proc && proc.child.connected) return proc
    if (proc) void disposeParserProcess(proc)
    return startParserProcess(sandbox)
  }
  refill()
  return {
    async parse(request, signal) {
      if (closed) throw new ParseFailure('parse_aborted', 'the parser pool is closed', true)
      const proc = await take()
      try {
        return await runInProcess(proc, request, sandbox, signal)
      } finally {
        await disposeParserProcess(proc)
      }
    },
    async close() {
      closed = true
      const left = idle.splice(0)
      await Promise.all(left.map(async (p) => disposeParserProcess(await p).catch(() => {})))
    },
  }
}

/** A child that died without a reply. Out of memory is the file's fault; any other death may be ours (or an outside kill) and is retried. */
function crashFailure(code: number | null, sig: NodeJS.Signals | null, stderr: string): ParseFailure {
  if (/out of memory|heap limit|allocation failed|Cannot allocate memory/i.test(stderr)) {
    return new ParseFailure('out_of_memory', 'the file needs more memory to read than a parser may use', false)
  }
  const how = sig ? `was killed by ${sig}` : `exited with code ${code}`
  const detail = stderr.trim().split('\n').at(-1)?.slice(0, 200)
  return new ParseFailure('parser_crashed', `the parser process ${how}${detail ? ` (${detail})` : ''}`, true)
}
