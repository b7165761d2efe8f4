/**
 * `node server/main.ts` with a bad environment: the process stops before it
 * listens, with one message that names every bad variable, so an operator
 * fixes them all in one go.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const MAIN = path.resolve(import.meta.dirname, '..', 'server', 'main.ts')

async function runMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Only PATH is inherited: a DATABASE_URL or S3_* set for other suites must not leak in.
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

describe('start-up with a bad environment', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'filedock-config-'))
  })
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('exits non-zero with one message naming every bad variable, before listening', async () => {
    const { code, stdout, stderr } = await runMain({ DATA_DIR: dataDir, PORT: 'abc', MAX_UPLOAD_SIZE: 'lots', S3_FORCE_PATH_STYLE: 'maybe' })
    expect(code).not.toBe(0)
    expect(code).not.toBeNull()
    expect(stdout).not.toMatch(/listening/)
    expect(stderr.match(/invalid configuration/g)).toHaveLength(1)
    expect(stderr).toMatch(/PORT="abc": expected a port number/)
    expect(stderr).toMatch(/MAX_UPLOAD_SIZE="lots": expected a size in bytes/)
    expect(stderr).toMatch(/S3_FORCE_PATH_STYLE="maybe": expected true or false/)
    // A configuration mistake is not a crash: no stack trace for the operator to wade through.
    expect(stderr).not.toMatch(/^\s+at /m)
  })
})
