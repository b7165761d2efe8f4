/** Real servers for the tests: in this process on port 0, or as a child process that can be killed. */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import pino from 'pino'
import { type RunningServer, startServer } from '../../server/start.ts'
import { type Backend, makeTestEnv, type TestEnv } from './backends.ts'

export type TestServer = RunningServer & { testEnv: TestEnv; stop(): Promise<void> }

export async function startTestServer(backend: Backend, extra: Record<string, string> = {}): Promise<TestServer> {
  const testEnv = await makeTestEnv(backend, extra)
  const running = await startServer(testEnv.config, pino({ level: testEnv.config.logLevel }))
  return {
    ...running,
    testEnv,
    async stop() {
      await running.close()
      await testEnv.cleanup()
    },
  }
}

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'server', 'main.ts')

export type ChildServer = { url: string; child: ChildProcess; output: () => string; kill(signal?: NodeJS.Signals): Promise<void> }

/** `node server/main.ts` with the given environment; resolves once it prints its URL. */
export async function spawnServer(env: Record<string, string>): Promise<ChildServer> {
  // Only the given configuration: the test runner's own DATABASE_URL and S3_* name the backends, not this server's.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !k.startsWith('S3_')))
  const child = spawn(process.execPath, [MAIN], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    out += d
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${out}`)), 60_000)
    const onData = () => {
      const m = /listening on (http:\/\/\S+) /.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        resolve(m[1])
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${out}`))
    })
  })
  return {
    url,
    child,
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      await once(child, 'exit')
    },
  }
}
