/**
 * Authentication and ownership.
 *
 * api_key: keys for `X-API-Key`, stored as a SHA-256 hash of the secret
 * (the key itself is shown once, when made). `revoked_at` set: refused.
 *
 * file.conversation_id: an optional grouping a client gives a file (tus
 * metadata `conversationId`), filtered on by GET /api/files.
 */
import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('api_key')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addCheckConstraint('api_key_user_id_check', sql`length(user_id) between 1 and 200`)
    .execute()
  await db.schema.createIndex('api_key_user_idx').on('api_key').column('user_id').execute()

  await db.schema.alterTable('file').addColumn('conversation_id', 'text').execute()
  await db.schema.createIndex('file_owner_conversation_idx').on('file').columns(['owner_id', 'conversation_id', 'created_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('file').dropColumn('conversation_id').execute()
  await db.schema.dropTable('api_key').execute()
}
