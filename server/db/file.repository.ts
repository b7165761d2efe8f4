/**
 * Plain functions over the file table. Each takes `db` or a transaction; the
 * caller owns the transaction. A missing row is `undefined`.
 */
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely'
import type { Database, FileStatus, FileTable } from './schema.ts'

type Db = Kysely<Database> | Transaction<Database>
type FileRow = Selectable<FileTable>

export type { FileStatus }

/** A file as the rest of the server sees it. */
export type FileRecord = {
  id: string
  ownerId: string
  conversationId: string | null
  filename: string
  contentType: string
  /** Final size once uploaded, the declared Upload-Length before, null while deferred. */
  size: number | null
  status: FileStatus
  storageBackend: 'file' | 's3'
  storageKey: string
  uploadMetadata: Record<string, string | null>
  metadata: Record<string, unknown>
  description: string | null
  error: { code: string; message: string } | null
  createdAt: Date
  updatedAt: Date
  uploadedAt: Date | null
  expiresAt: Date | null
  processingStartedAt: Date | null
  processedAt: Date | null
}

const toNumber = (v: string | number | bigint | null): number | null => (v === null ? null : Number(v))

function toRecord(row: FileRow): FileRecord {
  return {
    id: row.id,
    ownerId: row.owner_id,
    conversationId: row.conversation_id,
    filename: row.filename,
    contentType: row.content_type,
    size: toNumber(row.size) ?? toNumber(row.declared_size),
    status: row.status,
    storageBackend: row.storage_backend,
    storageKey: row.storage_key,
    uploadMetadata: row.upload_metadata,
    metadata: row.metadata,
    description: row.description,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    uploadedAt: row.uploaded_at ? new Date(row.uploaded_at) : null,
    expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    processingStartedAt: row.processing_started_at ? new Date(row.processing_started_at) : null,
    processedAt: row.processed_at ? new Date(row.processed_at) : null,
  }
}

export type NewUpload = {
  id: string
  ownerId: string
  conversationId?: string | null
  filename: string
  contentType: string
  declaredSize: number | null
  storageBackend: 'file' | 's3'
  storageKey: string
  uploadMetadata: Record<string, string | null>
  expiresAt: Date
}

export async function insertUpload(db: Db, upload: NewUpload): Promise<void> {
  await db
    .insertInto('file')
    .values({
      id: upload.id,
      owner_id: upload.ownerId,
      conversation_id: upload.conversationId ?? null,
      filename: upload.filename,
      content_type: upload.contentType,
      declared_size: upload.declaredSize,
      status: 'uploading',
      storage_backend: upload.storageBackend,
      storage_key: upload.storageKey,
      upload_metadata: JSON.stringify(upload.uploadMetadata),
      expires_at: upload.expiresAt,
    })
    .execute()
}

export async function findFile(db: Db, id: string): Promise<FileRecord | undefined> {
  const row = await db.selectFrom('file').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toRecord(row)
}

/** Who owns file `id` (one column: every tus HEAD and PATCH asks). */
export async function findOwner(db: Db, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('file').select('owner_id').where('id', '=', id).executeTakeFirst()
  return row?.owner_id
}

/**
 * Where a page of the listing ends: created_at to the microsecond, as Postgres
 * keeps it, and the id. A JS Date holds only milliseconds, so a position taken
 * from one would skip every file created later within the same millisecond.
 */
export type FileListPosition = { createdAt: string; id: string }

export type ListFilesQuery = { ownerId: string; conversationId?: string; limit: number; after?: FileListPosition }

/** Newest first, keyset-paginated on (created_at, id) so pages stay stable while uploads arrive. */
export async function listFiles(db: Db, q: ListFilesQuery): Promise<{ files: FileRecord[]; next: FileListPosition | null }> {
  let query = db
    .selectFrom('file')
    .selectAll()
    .select(sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position'))
    .where('owner_id', '=', q.ownerId)
  if (q.conversationId !== undefined) query = query.where('conversation_id', '=', q.conversationId)
  if (q.after) {
    const { id } = q.after
    const createdAt = sql<Date>`${q.after.createdAt}::timestamptz`
    query = query.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]))
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit + 1).execute()
  const shown = rows.slice(0, q.limit)
  const last = shown.at(-1)
  return { files: shown.map(toRecord), next: rows.length > q.limit && last ? { createdAt: last.position, id: last.id } : null }
}

/**
 * 'uploading' -> 'uploaded' with the final size. Idempotent: a repeated finish
 * (a retried PATCH, the start-up reconcile) changes nothing and returns false.
 */
export async function markUploaded(db: Db, id: string, size: number): Promise<boolean> {
  const result = await db
    .updateTable('file')
    .set((eb) => ({ status: 'uploaded', size, uploaded_at: eb.fn('now'), updated_at: eb.fn('now'), expires_at: null }))
    .where('id', '=', id)
    .where('status', '=', 'uploading')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** The text fields of a form post, which may arrive after its files: the conversation and the free-form metadata. */
export async function setUploadFields(db: Db, id: string, fields: { conversationId: string | null; uploadMetadata: Record<string, string | null> }): Promise<void> {
  await db
    .updateTable('file')
    .set((eb) => ({ conversation_id: fields.conversationId, upload_metadata: JSON.stringify(fields.uploadMetadata), updated_at: eb.fn('now') }))
    .where('id', '=', id)
    .execute()
}

export async function setDeclaredSize(db: Db, id: string, size: number): Promise<void> {
  await db
    .updateTable('file')
    .set((eb) => ({ declared_size: size, updated_at: eb.fn('now') }))
    .where('id', '=', id)
    .where('status', '=', 'uploading')
    .execute()
}

export async function markFailed(db: Db, id: string, error: { code: string; message: string }): Promise<boolean> {
  const result = await db
    .updateTable('file')
    .set((eb) => ({ status: 'failed', error_code: error.code, error_message: error.message, updated_at: eb.fn('now') }))
    .where('id', '=', id)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function deleteFile(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('file').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/** Unfinished uploads whose expiry has passed, oldest first. */
export async function listExpiredUploads(db: Db, now: Date, limit: number): Promise<FileRecord[]> {
  const rows = await db
    .selectFrom('file')
    .selectAll()
    .where('status', '=', 'uploading')
    .where('expires_at', '<', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute()
  return rows.map(toRecord)
}

/** Unfinished uploads in id order, a page at a time (the start-up reconcile walks them all). */
export async function listUploading(db: Db, afterId: string | null, limit: number): Promise<FileRecord[]> {
  let query = db.selectFrom('file').selectAll().where('status', '=', 'uploading')
  if (afterId) query = query.where('id', '>', afterId)
  const rows = await query.orderBy('id').limit(limit).execute()
  return rows.map(toRecord)
}

/** 'uploaded' (or a 'processing' whose worker died) -> 'processing', when a worker claims the file's job. */
export async function markProcessing(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('file')
    .set((eb) => ({ status: 'processing', processing_started_at: eb.fn('now'), updated_at: eb.fn('now') }))
    .where('id', '=', id)
    .where('status', 'in', ['uploaded', 'processing'])
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export type ProcessingOutcome =
  | { status: 'ready'; metadata: Record<string, unknown>; description: string }
  | { status: 'failed'; error: { code: string; message: string }; metadata?: Record<string, unknown> }

/** 'processing' -> 'ready' with the facts and the description, or -> 'failed' with the reason. */
export async function finishProcessing(db: Db, id: string, outcome: ProcessingOutcome): Promise<boolean> {
  const result = await db
    .updateTable('file')
    .set((eb) => ({
      status: outcome.status,
      metadata: JSON.stringify(outcome.metadata ?? {}),
      description: outcome.status === 'ready' ? outcome.description : null,
      error_code: outcome.status === 'failed' ? outcome.error.code : null,
      error_message: outcome.status === 'failed' ? outcome.error.message : null,
      processed_at: eb.fn('now'),
      updated_at: eb.fn('now'),
    }))
    .where('id', '=', id)
    .where('status', '=', 'processing')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/**
 * Bytes a user holds or has announced: final sizes, and declared sizes of
 * unfinished uploads (counted from creation, so parallel uploads cannot race
 * past a quota). Expired uploads hold nothing. `except` leaves those files out.
 */
export async function bytesHeldBy(db: Db, ownerId: string, except: readonly string[] = []): Promise<number> {
  let query = db
    .selectFrom('file')
    .select(sql<string | number>`coalesce(sum(coalesce(size, declared_size, 0)), 0)`.as('bytes'))
    .where('owner_id', '=', ownerId)
    // A failed file keeps its bytes (to be downloaded or deleted) unless it failed by expiring.
    .where((eb) => eb.or([eb('status', '!=', 'failed'), eb('error_code', 'is', null), eb('error_code', '!=', 'upload_expired')]))
  if (except.length > 0) query = query.where('id', 'not in', except)
  const row = await query.executeTakeFirstOrThrow()
  return Number(row.bytes)
}

/** Serialises quota checks of one owner until the transaction ends (Postgres and PGlite alike). */
export async function lockOwner(db: Transaction<Database>, ownerId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${ownerId}))`.execute(db)
}
