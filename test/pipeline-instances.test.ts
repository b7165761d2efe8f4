/**
 * Two instances with workers over one Postgres: every file is processed once
 * (one claim, one attempt), whichever instance it was uploaded to, and a
 * waiter on one instance hears the worker on the other.
 */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findJob } from '../server/db/job.repository.ts'
import { type RunningServer, startServer } from '../server/start.ts'
import { backends, makeTestEnv, type TestEnv } from './helpers/backends.ts'
import { uploadFile } from './helpers/files.ts'
import { settled } from './helpers/pipeline.ts'

const shared = backends().find((b) => b.postgres)

describe.skipIf(!shared)(`pipeline on two instances, ${shared?.name ?? 'Postgres (DATABASE_URL unset)'}`, () => {
  let env: TestEnv
  let a: RunningServer
  let b: RunningServer
  beforeAll(async () => {
    env = await makeTestEnv(shared as NonNullable<typeof shared>, { WORKER_CONCURRENCY: '2' })
    a = await startServer(env.config, pino({ level: 'silent' }))
    b = await startServer(env.config, pino({ level: 'silent' }))
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await env?.cleanup()
  })

  it('processes every file exactly once across both instances', async () => {
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) => uploadFile((i % 2 === 0 ? a : b).url, Buffer.from(`n,square\n${i},${i * i}\n`), { filename: `f${i}.csv` })),
    )
    // Each file is awaited on the instance it was not uploaded to.
    const files = await Promise.all(ids.map((id, i) => settled((i % 2 === 0 ? b : a).url, id)))
    for (const file of files) expect(file).toMatchObject({ status: 'ready', metadata: { rows: 1, columns: 2 } })
    for (const id of ids) expect(await findJob(a.db, id)).toMatchObject({ status: 'done', attempts: 1 })
  })
})
