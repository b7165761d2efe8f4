/**
 * upload_lock: one row per upload being written to, held by one server
 * instance (`holder`) until `expires_at`; the holder renews the lease while
 * it works, so a crashed instance's locks lapse on their own.
 *
 * UNLOGGED: every PATCH takes and drops a lease, and a WAL flush for each
 * would cost more than the lock is worth. After a database crash the table
 * is empty, which is right: the requests that held those locks are gone too.
 */
import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('upload_lock')
    .modifyFront(sql`unlogged`)
    .addColumn('upload_id', 'uuid', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('acquired_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('upload_lock').execute()
}
