/**
 * Plain functions over the api_key table. Each takes `db` or a transaction;
 * the caller owns the transaction. A missing row is `undefined`.
 *
 * Row layout: `id` is the public part of a key (it appears in the key and in
 * logs), `secret_hash` the hex SHA-256 of the secret part; the secret itself
 * is never stored. A key with `revoked_at` set is kept for the record but no
 * longer found by findActiveApiKey.
 */
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely'
import type { ApiKeyTable, Database } from './schema.ts'

type Db = Kysely<Database> | Transaction<Database>
type ApiKeyRow = Selectable<ApiKeyTable>

/** What a verifier needs to check a presented key. */
export type ActiveApiKey = { id: string; userId: string; secretHash: string }

/** A key as listed to an operator: everything but the hash. */
export type ApiKeyRecord = {
  id: string
  userId: string
  label: string | null
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

function toRecord(row: Omit<ApiKeyRow, 'secret_hash'>): ApiKeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    label: row.label,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
  }
}

export async function insertApiKey(db: Db, key: { id: string; userId: string; secretHash: string; label?: string | null }): Promise<void> {
  await db
    .insertInto('api_key')
    .values({ id: key.id, user_id: key.userId, secret_hash: key.secretHash, label: key.label ?? null })
    .execute()
}

/** The key with this id unless it was revoked. */
export async function findActiveApiKey(db: Db, id: string): Promise<ActiveApiKey | undefined> {
  const row = await db
    .selectFrom('api_key')
    .select(['id', 'user_id', 'secret_hash'])
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return row ? { id: row.id, userId: row.user_id, secretHash: row.secret_hash } : undefined
}

/**
 * Records that the key was used. At most one write a minute per key: a busy
 * client sends a key on every PATCH, and a row update per request would turn
 * every upload chunk into a database write for a timestamp nobody needs to
 * the second.
 */
export async function touchApiKey(db: Db, id: string): Promise<void> {
  await db
    .updateTable('api_key')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
    .execute()
}

/** Revokes the key; true when it existed and was not already revoked. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('api_key')
    .set({ revoked_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Every key (of one user when given), oldest first, without hashes. */
export async function listApiKeys(db: Db, userId?: string): Promise<ApiKeyRecord[]> {
  let query = db.selectFrom('api_key').select(['id', 'user_id', 'label', 'created_at', 'last_used_at', 'revoked_at'])
  if (userId !== undefined) query = query.where('user_id', '=', userId)
  const rows = await query.orderBy('created_at').orderBy('id').execute()
  return rows.map(toRecord)
}
