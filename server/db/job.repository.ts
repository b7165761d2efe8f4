/**
 * The job queue over the job table (see its migration for the layout).
 * Every write after the claim names the claim's lease token: a worker whose
 * lease lapsed and was taken over can no longer change the job, so two
 * workers never both finish one file.
 */
import { randomUUID } from 'node:crypto'
import { type Kysely, sql, type Transaction } from 'kysely'
import type { Database, JobStatus } from './schema.ts'

type Db = Kysely<Database> | Transaction<Database>

export type { JobStatus }

export type ClaimedJob = { fileId: string; attempts: number; leaseToken: string }

export type JobRecord = { fileId: string; status: JobStatus; attempts: number; runAt: Date; lastError: string | null }

/** Queues (or re-queues) the processing of a file. Call it in the transaction that marks the file uploaded. */
export async function enqueueJob(db: Db, fileId: string): Promise<void> {
  await db
    .insertInto('job')
    .values({ file_id: fileId })
    .onConflict((oc) =>
      oc.column('file_id').doUpdateSet((eb) => ({ status: 'queued', attempts: 0, run_at: eb.fn('now'), lease_token: null, lease_expires_at: null, last_error: null, updated_at: eb.fn('now') })),
    )
    .execute()
}

/**
 * Claims the next due job: a queued one whose time has come, or a running one
 * whose lease lapsed (its worker died). SKIP LOCKED lets concurrent claimers
 * pass over each other's rows instead of queueing behind them.
 */
export async function claimNextJob(db: Db, leaseMs: number): Promise<ClaimedJob | undefined> {
  const token = randomUUID()
  const { rows } = await sql<{ file_id: string; attempts: number }>`
    with next as (
      select file_id from job
      where (status = 'queued' and run_at <= now()) or (status = 'running' and lease_expires_at < now())
      order by run_at, file_id
      limit 1
      for update skip locked
    )
    update job
    set status = 'running', attempts = job.attempts + 1, lease_token = ${token},
        lease_expires_at = now() + ${leaseMs} * interval '1 millisecond', updated_at = now()
    from next
    where job.file_id = next.file_id
    returning job.file_id, job.attempts`.execute(db)
  const row = rows[0]
  return row && { fileId: row.file_id, attempts: Number(row.attempts), leaseToken: token }
}

/** Extends a held lease; false when it was lost (lapsed and taken over, or the file was deleted). */
export async function renewLease(db: Db, job: ClaimedJob, leaseMs: number): Promise<boolean> {
  const result = await db
    .updateTable('job')
    .set({ lease_expires_at: sql`now() + ${leaseMs} * interval '1 millisecond'`, updated_at: sql`now()` })
    .where('file_id', '=', job.fileId)
    .where('lease_token', '=', job.leaseToken)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Ends a claim as 'done' or 'failed'; false when the lease was lost, and then nothing was written. */
export async function finishJob(db: Db, job: ClaimedJob, outcome: { status: 'done' } | { status: 'failed'; error: string }): Promise<boolean> {
  const result = await db
    .updateTable('job')
    .set({
      status: outcome.status,
      lease_token: null,
      lease_expires_at: null,
      // A job done after a retry keeps the error it recovered from: the history is worth having.
      last_error: outcome.status === 'failed' ? outcome.error : sql<string | null>`last_error`,
      updated_at: sql`now()`,
    })
    .where('file_id', '=', job.fileId)
    .where('lease_token', '=', job.leaseToken)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/**
 * Puts a claimed job back in the queue to run after `delayMs`. With
 * `countAttempt: false` (a worker shutting down) the attempt is not held
 * against the job.
 */
export async function requeueJob(db: Db, job: ClaimedJob, options: { delayMs: number; error?: string; countAttempt?: boolean }): Promise<boolean> {
  const result = await db
    .updateTable('job')
    .set((eb) => ({
      status: 'queued',
      run_at: sql`now() + ${options.delayMs} * interval '1 millisecond'`,
      lease_token: null,
      lease_expires_at: null,
      last_error: options.error ?? null,
      attempts: options.countAttempt === false ? eb('attempts', '-', 1) : eb.ref('attempts'),
      updated_at: sql`now()`,
    }))
    .where('file_id', '=', job.fileId)
    .where('lease_token', '=', job.leaseToken)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function findJob(db: Db, fileId: string): Promise<JobRecord | undefined> {
  const row = await db.selectFrom('job').selectAll().where('file_id', '=', fileId).executeTakeFirst()
  return row && { fileId: row.file_id, status: row.status, attempts: Number(row.attempts), runAt: new Date(row.run_at), lastError: row.last_error }
}

/** When the next queued job falls due, so an idle worker knows how long it may sleep. */
export async function nextJobDueAt(db: Db): Promise<Date | undefined> {
  const row = await db
    .selectFrom('job')
    .select((eb) => eb.fn.min<Date | null>(sql`case when status = 'queued' then run_at else lease_expires_at end`).as('due'))
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirst()
  return row?.due ? new Date(row.due) : undefined
}
