/**
 * Nothing is lost when processes die mid-job: a parser process killed with
 * SIGKILL is retried; a server (worker) killed with SIGKILL leaves its job
 * to the next worker once the lease lapses, and its parser process goes too.
 */
import { readFile, readdir } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../server/db/database.ts'
import { findJob } from '../server/db/job.repository.ts'
import { backends, makeTestEnv, type TestEnv } from './helpers/backends.ts'
import { uploadFile } from './helpers/files.ts'
import { type FileBody, settled } from './helpers/pipeline.ts'
import { spawnServer, startTestServer, type TestServer } from './helpers/server.ts'
import { waitFor } from './helpers/tus.ts'

/** A CSV big enough that parsing it takes a moment (tens of MiB). */
function slowCsv(rows: number): Buffer {
  const line = (i: number) => `${i},alpha ${i % 97},${(i * 0.37).toFixed(2)},2024-03-${String((i % 28) + 1).padStart(2, '0')},"quoted, text ${i}"\n`
  const parts = ['id,name,value,date,note\n']
  for (let i = 0; i < rows; i++) parts.push(line(i))
  return Buffer.from(parts.join(''))
}

/** Pids of running parser processes whose parent is `parentPid` (Linux /proc). */
async function parserPids(parentPid?: number): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const [cmdline, stat] = await Promise.all([readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => ''), readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')])
    if (!cmdline.includes('parse-child.ts')) continue
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (parentPid === undefined || ppid === parentPid) pids.push(Number(entry))
  }
  return pids
}

async function statusOf(base: string, id: string): Promise<string | undefined> {
  const res = await fetch(`${base}/api/files/${id}`).catch(() => undefined)
  return res?.ok ? ((await res.json()) as FileBody).status : undefined
}

describe.each(backends())('recovery on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('retries a job whose parser process was killed, and the file still becomes ready', async () => {
    const data = slowCsv(1_200_000)
    const id = await uploadFile(server.url, data, { filename: 'big.csv' })
    // Kill every parser process (the one parsing the file, and spares, which are simply replaced)
    // until the worker has seen its parse die; then let the retry run.
    await waitFor(async () => {
      for (const pid of await parserPids(process.pid)) process.kill(pid, 'SIGKILL')
      const job = await findJob(server.db, id)
      return job?.lastError?.startsWith('parser_crashed') ? true : undefined
    }, 60_000, 'the killed parse to be noticed')
    const file = await settled(server.url, id, 120_000)
    expect(file).toMatchObject({ status: 'ready', metadata: { rows: 1_200_000, columns: 5 } })
    expect(await findJob(server.db, id)).toMatchObject({ status: 'done', attempts: 2, lastError: expect.stringMatching(/^parser_crashed: .*SIGKILL/) })
  })
})

describe.each(backends())('a worker killed mid-job on $name', (backend) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await makeTestEnv(backend, { JOB_LEASE_SECONDS: '2' })
  })
  afterAll(async () => {
    await env?.cleanup()
  })

  it('leaves its job to the next worker, which makes the file ready', async () => {
    const first = await spawnServer(env.env)
    const data = slowCsv(1_500_000)
    const id = await uploadFile(first.url, data, { filename: 'killed.csv' })
    await waitFor(async () => ((await statusOf(first.url, id)) === 'processing' ? true : undefined), 30_000, 'processing')
    const orphans = await waitFor(async () => {
      const pids = await parserPids(first.child.pid)
      return pids.length > 0 ? pids : undefined
    }, 30_000, 'the parser process')
    await first.kill('SIGKILL')
    // Its parser process notices the server is gone and exits.
    await waitFor(async () => ((await parserPids()).some((p) => orphans.includes(p)) ? undefined : true), 10_000, 'the orphaned parser to exit')

    const second = await spawnServer(env.env)
    try {
      const file = await settled(second.url, id, 120_000)
      expect(file).toMatchObject({ status: 'ready', metadata: { rows: 1_500_000 } })
      // PGlite belongs to the running server; on Postgres the job's history can be read beside it.
      if (env.config.databaseUrl) {
        const db = await createDatabase({ url: env.config.databaseUrl })
        expect(await findJob(db, id)).toMatchObject({ status: 'done', attempts: 2 })
        await db.destroy()
      }
    } finally {
      await second.kill()
    }
  })
})
