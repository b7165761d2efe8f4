/**
 * The file table: one row per upload, from creation ('uploading') to the end of
 * its processing. Frozen once landed: change the schema with a new migration.
 */
import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('file')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('declared_size', 'bigint')
    .addColumn('size', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('storage_backend', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull())
    .addColumn('upload_metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('description', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('uploaded_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz')
    .addCheckConstraint('file_status_check', sql`status in ('uploading', 'uploaded', 'processing', 'ready', 'failed')`)
    .addCheckConstraint('file_storage_backend_check', sql`storage_backend in ('file', 's3')`)
    .addCheckConstraint('file_declared_size_check', sql`declared_size is null or declared_size >= 0`)
    .addCheckConstraint('file_size_check', sql`size is null or size >= 0`)
    .execute()

  await db.schema.createIndex('file_owner_created_idx').on('file').columns(['owner_id', 'created_at']).execute()
  // The expiry sweep and the start-up reconcile look only at unfinished uploads.
  await db.schema
    .createIndex('file_uploading_expires_idx')
    .on('file')
    .column('expires_at')
    .where(sql.ref('status'), '=', 'uploading')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('file').execute()
}
