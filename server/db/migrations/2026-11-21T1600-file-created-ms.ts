/**
 * file.created_at to the millisecond.
 *
 * The listing is newest first on (created_at, id), and the JSON gives
 * createdAt to the millisecond (a JS Date holds no more). Stored to the
 * microsecond, two files made in one millisecond were listed in an order no
 * client could rebuild from the JSON: a page that places a file arriving on
 * the event stream could put it on the wrong side of its neighbour. Stored to
 * the millisecond, (createdAt, id) from the JSON is the listing's own order.
 */
import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('file')
    .alterColumn('created_at', (c) => c.setDefault(sql`date_trunc('milliseconds', now())`))
    .execute()
  await sql`update file set created_at = date_trunc('milliseconds', created_at) where created_at <> date_trunc('milliseconds', created_at)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('file').alterColumn('created_at', (c) => c.setDefault(sql`now()`)).execute()
}
