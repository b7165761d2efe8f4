/**
 * Server children for the benchmark: each server runs in its own process so
 * its peak RSS (VmHWM) and CPU time can be read from /proc before it stops.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '..')

export type ProcFacts = { peakRssMiB: number; rssMiB: number; cpuSeconds: number }

/** VmHWM / VmRSS from /proc/<pid>/status and utime+stime from /proc/<pid>/stat (Linux). */
export function procFacts(pid: number): ProcFacts {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the ")" closing the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return { peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024, cpuSeconds: ticks / 100 }
  } catch {
    return { peakRssMiB: Number.NaN, rssMiB: Number.NaN, cpuSeconds: Number.NaN }
  }
}

export type Child = {
  name: string
  url: string
  pid: number
  /** Facts right after start-up (idle RSS, start-up CPU). */
  atStart: ProcFacts
  facts(): ProcFacts
  /** SIGTERM, wait for exit (SIGKILL after 10 s); returns the facts read just before. */
  stop(): Promise<ProcFacts>
  output(): string
}

const LISTENING = /listening on (http:\/\/\S+)/

/**
 * Starts `node <script>` and resolves once it prints "listening on http://...".
 * BENCH_CPU_PROF=<dir> adds --cpu-prof, written when the child exits.
 */
export async function startChild(name: string, script: string, env: Record<string, string | undefined>): Promise<Child> {
  const flags = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF), '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : []
  const child: ChildProcess = spawn(process.execPath, [...flags, script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (d: Buffer) => {
    // Keep the last 64 KiB of output for error messages; the rest is drained.
    out = (out + d.toString()).slice(-65536)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s:\n${out}`)), 60_000)
    const onData = () => {
      const m = LISTENING.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        resolve(m[1])
      }
    }
    child.stdout?.on('data', onData)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`${name} exited during start-up (${child.exitCode ?? child.signalCode}):\n${out}`))
    })
  })
  const pid = child.pid as number
  return {
    name,
    url,
    pid,
    atStart: procFacts(pid),
    facts: () => procFacts(pid),
    output: () => out,
    async stop() {
      const facts = procFacts(pid)
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
      return facts
    },
  }
}

/** The environment for a child: ours without S3_*, DATABASE_URL or PORT unless given in `extra`. */
export function childEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('S3_') || k === 'DATABASE_URL' || k === 'PORT' || k === 'DATA_DIR' || k === 'NODE_OPTIONS') continue
    env[k] = v
  }
  return { ...env, ...extra }
}
