/**
 * Server children for the benchmark: each server runs in its own process so
 * its peak RSS (VmHWM) and CPU time can be read from /proc before it stops,
 * summed over its own child processes too.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '..')

export type ProcFacts = { peakRssMiB: number; rssMiB: number; cpuSeconds: number }

/** Fields of /proc/<pid>/stat after the ")" closing the command name (field 3 onwards). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/**
 * VmHWM / VmRSS from /proc/<pid>/status; CPU = utime + stime + cutime + cstime
 * (fields 14-17 of /proc/<pid>/stat: its own and its reaped children's). Linux only.
 */
export function procFacts(pid: number): ProcFacts {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
    const f = statFields(pid)
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
    return { peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024, cpuSeconds: ticks / 100 }
  } catch {
    return { peakRssMiB: Number.NaN, rssMiB: Number.NaN, cpuSeconds: Number.NaN }
  }
}

/** The process and all its live descendants (a server may run helpers, e.g. a PGlite process). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const ppid = Number(statFields(Number(name))[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)])
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []))
  return tree
}

/** Sums over the process tree: RSS now, the sum of each process's peak (an upper bound of the tree's peak), CPU. */
export function treeFacts(pid: number): ProcFacts & { processes: number } {
  const all = processTree(pid).map(procFacts).filter((f) => Number.isFinite(f.rssMiB))
  const sum = (k: keyof ProcFacts) => (all.length ? all.reduce((s, f) => s + f[k], 0) : Number.NaN)
  return { peakRssMiB: sum('peakRssMiB'), rssMiB: sum('rssMiB'), cpuSeconds: sum('cpuSeconds'), processes: all.length }
}

/** Resets VmHWM to the current RSS (Linux >= 4.0), so the next reading is the peak from now on. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** CPU seconds the whole machine spent busy (all cores, from /proc/stat), to tell how much other processes took. */
export function machineBusySeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.split(/\s+/).slice(1).map(Number) ?? []
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu
    return (user + nice + system + irq + softirq + steal) / 100
  } catch {
    return Number.NaN
  }
}

export type Child = {
  name: string
  url: string
  pid: number
  /** Facts right after start-up (idle RSS, start-up CPU, peak RSS of the start-up); VmHWM is reset after reading them. */
  atStart: ProcFacts
  facts(): ProcFacts
  /** SIGTERM, wait for exit (SIGKILL after 10 s); returns the facts read just before. */
  stop(): Promise<ProcFacts>
  output(): string
}

const LISTENING = /listening on (http:\/\/\S+)/

/**
 * Starts `node <script>` and resolves once it prints "listening on http://...".
 * BENCH_CPU_PROF=<dir> adds --cpu-prof, written when the child exits;
 * BENCH_NODE_FLAGS adds Node/V8 flags to every server child (e.g. --max-semi-space-size=1).
 */
export async function startChild(name: string, script: string, env: Record<string, string | undefined>): Promise<Child> {
  const flags = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF), '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : []
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)
  const child: ChildProcess = spawn(process.execPath, [...extra, ...flags, script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
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
  const atStart = treeFacts(pid)
  for (const p of processTree(pid)) resetPeak(p)
  return {
    name,
    url,
    pid,
    atStart,
    facts: () => treeFacts(pid),
    output: () => out,
    async stop() {
      const facts = treeFacts(pid)
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
