/** Leases on uploads, for locks shared by several server instances (see locks/postgres-locker.ts). */
import { type Kysely, sql } from 'kysely'
import type { Database } from './schema.ts'

export const LOCK_RELEASE_CHANNEL = 'filedock_upload_lock_release'

/** Takes the lease when it is free, lapsed, or already ours. True when `holder` has it now. */
export async function tryAcquireLease(db: Kysely<Database>, uploadId: string, holder: string, leaseMs: number): Promise<boolean> {
  const row = await db
    .insertInto('upload_lock')
    .values({ upload_id: uploadId, holder, expires_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` })
    .onConflict((oc) =>
      oc
        .column('upload_id')
        .doUpdateSet({ holder, expires_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})`, acquired_at: sql<Date>`now()` })
        .where((eb) => eb.or([eb('upload_lock.expires_at', '<', sql<Date>`now()`), eb('upload_lock.holder', '=', holder)])),
    )
    .returning('holder')
    .executeTakeFirst()
  return row?.holder === holder
}

export async function renewLeases(db: Kysely<Database>, uploadIds: string[], holder: string, leaseMs: number): Promise<void> {
  if (uploadIds.length === 0) return
  await db
    .updateTable('upload_lock')
    .set({ expires_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where('holder', '=', holder)
    .where('upload_id', 'in', uploadIds)
    .execute()
}

export async function releaseLease(db: Kysely<Database>, uploadId: string, holder: string): Promise<void> {
  await db.deleteFrom('upload_lock').where('upload_id', '=', uploadId).where('holder', '=', holder).execute()
}

export async function releaseAllLeases(db: Kysely<Database>, holder: string): Promise<void> {
  await db.deleteFrom('upload_lock').where('holder', '=', holder).execute()
}

/** Asks whichever instance holds the upload's lease to let go (it LISTENs on the channel). */
export async function requestLeaseRelease(db: Kysely<Database>, uploadId: string): Promise<void> {
  await sql`select pg_notify(${LOCK_RELEASE_CHANNEL}, ${uploadId})`.execute(db)
}
