/**
 * The processing pipeline's tables.
 *
 * job: one row per file to parse and describe, written in the same
 * transaction that marks the file 'uploaded'. A worker claims a due row
 * (FOR UPDATE SKIP LOCKED) and holds it with a lease: `lease_token` names the
 * claim, `lease_expires_at` is renewed while the worker runs, and a job whose
 * lease lapsed (its worker died) is claimable again. Finished jobs stay as
 * 'done' or 'failed' with their attempt count, until the file is deleted.
 *
 * file_text: the extracted text of a ready file in ordered sections (a PDF
 * page, a sheet, a block of CSV rows), served a page at a time.
 *
 * file gains the timestamps of its processing.
 */
import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('file')
    .addColumn('processing_started_at', 'timestamptz')
    .addColumn('processed_at', 'timestamptz')
    .execute()

  await db.schema
    .createTable('job')
    .addColumn('file_id', 'uuid', (c) => c.primaryKey().references('file.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('lease_token', 'uuid')
    .addColumn('lease_expires_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('job_status_check', sql`status in ('queued', 'running', 'done', 'failed')`)
    .addCheckConstraint('job_attempts_check', sql`attempts >= 0`)
    .addCheckConstraint('job_lease_check', sql`(status = 'running') = (lease_token is not null and lease_expires_at is not null)`)
    .execute()
  // What a claim looks for: due queued jobs, and running jobs whose lease lapsed.
  await db.schema.createIndex('job_queued_run_at_idx').on('job').column('run_at').where(sql.ref('status'), '=', 'queued').execute()
  await db.schema.createIndex('job_running_lease_idx').on('job').column('lease_expires_at').where(sql.ref('status'), '=', 'running').execute()

  await db.schema
    .createTable('file_text')
    .addColumn('file_id', 'uuid', (c) => c.notNull().references('file.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('file_text_pkey', ['file_id', 'seq'])
    .execute()

  // Files finished before the pipeline existed get their job now: none is left behind.
  await sql`insert into job (file_id) select id from file where status in ('uploaded', 'processing') on conflict do nothing`.execute(db)
  await sql`update file set status = 'uploaded' where status = 'processing'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('file_text').execute()
  await db.schema.dropTable('job').execute()
  await db.schema.alterTable('file').dropColumn('processing_started_at').dropColumn('processed_at').execute()
}
