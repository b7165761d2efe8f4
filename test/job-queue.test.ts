/**
 * The job queue on the real databases (PGlite, and Postgres when
 * DATABASE_URL is set): claims never overlap, a lapsed lease is taken over,
 * and a worker that lost its lease can no longer change the job.
 */
import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../server/db/database.ts'
import * as files from '../server/db/file.repository.ts'
import * as jobs from '../server/db/job.repository.ts'
import { migrateToLatest } from '../server/db/migrate.ts'
import type { Database } from '../server/db/schema.ts'
import { backends, makeTestEnv, type TestEnv } from './helpers/backends.ts'

const databases = [...new Map(backends().map((b) => [b.postgres, { ...b, name: b.postgres ? 'Postgres' : 'PGlite' }])).values()]

async function finishedFile(db: Kysely<Database>): Promise<string> {
  const id = randomUUID()
  await files.insertUpload(db, { id, ownerId: 'local', filename: 'a.csv', contentType: 'text/csv', declaredSize: 3, storageBackend: 'file', storageKey: id, uploadMetadata: {}, expiresAt: new Date(Date.now() + 60_000) })
  await db.transaction().execute(async (trx) => {
    await files.markUploaded(trx, id, 3)
    await jobs.enqueueJob(trx, id)
  })
  return id
}

describe.each(databases)('job queue on $name', (backend) => {
  let env: TestEnv
  let db: Kysely<Database>
  beforeAll(async () => {
    env = await makeTestEnv(backend)
    db = await createDatabase(env.config.databaseUrl ? { url: env.config.databaseUrl } : { pgliteDir: `${env.dataDir}/pglite` })
    await migrateToLatest(db)
  })
  afterAll(async () => {
    await db?.destroy()
    await env?.cleanup()
  })

  it('gives every queued job to exactly one of many racing claimers', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, () => finishedFile(db)))
    const claimed: string[] = []
    const claimer = async () => {
      for (;;) {
        const job = await db.transaction().execute((trx) => jobs.claimNextJob(trx, 60_000))
        if (!job) return
        claimed.push(job.fileId)
        expect(await jobs.finishJob(db, job, { status: 'done' })).toBe(true)
      }
    }
    await Promise.all(Array.from({ length: 8 }, claimer))
    expect(claimed.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort())
    expect(new Set(claimed).size).toBe(claimed.length)
  })

  it('hands a job whose lease lapsed to the next claimer, and the old holder can no longer finish it', async () => {
    const id = await finishedFile(db)
    const first = await jobs.claimNextJob(db, 200)
    expect(first?.fileId).toBe(id)
    expect(await jobs.claimNextJob(db, 200)).toBeUndefined()
    await new Promise((r) => setTimeout(r, 400))
    const second = await jobs.claimNextJob(db, 60_000)
    expect(second).toMatchObject({ fileId: id, attempts: 2 })
    expect(await jobs.renewLease(db, first as jobs.ClaimedJob, 60_000)).toBe(false)
    expect(await jobs.finishJob(db, first as jobs.ClaimedJob, { status: 'failed', error: 'late' })).toBe(false)
    expect(await jobs.finishJob(db, second as jobs.ClaimedJob, { status: 'done' })).toBe(true)
    expect(await jobs.findJob(db, id)).toMatchObject({ status: 'done', attempts: 2 })
  })

  it('keeps a requeued job until its time comes', async () => {
    const id = await finishedFile(db)
    const job = (await jobs.claimNextJob(db, 60_000)) as jobs.ClaimedJob
    expect(await jobs.requeueJob(db, job, { delayMs: 60_000, error: 'storage_read_failed: boom' })).toBe(true)
    expect(await jobs.claimNextJob(db, 60_000)).toBeUndefined()
    expect(await jobs.findJob(db, id)).toMatchObject({ status: 'queued', attempts: 1, lastError: 'storage_read_failed: boom' })
    expect((await jobs.nextJobDueAt(db))?.getTime()).toBeGreaterThan(Date.now() + 30_000)
  })

  it('does not count a release at shutdown as an attempt', async () => {
    await db.updateTable('job').set({ status: 'done' }).where('status', '=', 'queued').execute()
    const id = await finishedFile(db)
    const job = (await jobs.claimNextJob(db, 60_000)) as jobs.ClaimedJob
    await jobs.requeueJob(db, job, { delayMs: 0, countAttempt: false })
    expect(await jobs.findJob(db, id)).toMatchObject({ status: 'queued', attempts: 0 })
    expect((await jobs.claimNextJob(db, 60_000))?.fileId).toBe(id)
  })

  it('drops the job with its file', async () => {
    const id = await finishedFile(db)
    await files.deleteFile(db, id)
    expect(await jobs.findJob(db, id)).toBeUndefined()
  })
})
