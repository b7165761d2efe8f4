import type { Kysely } from 'kysely'
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration'
import * as createFile from './migrations/2026-11-21T1200-create-file.ts'
import * as createUploadLock from './migrations/2026-11-21T1300-create-upload-lock.ts'
import * as createJob from './migrations/2026-11-21T1400-create-job.ts'
import * as createApiKey from './migrations/2026-11-21T1500-create-api-key.ts'
import * as fileCreatedMs from './migrations/2026-11-21T1600-file-created-ms.ts'

/** Every migration, by sortable name. A static list: no directory scanning, works the same from source and in tests. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-21T1200-create-file': createFile,
  '2026-11-21T1300-create-upload-lock': createUploadLock,
  '2026-11-21T1400-create-job': createJob,
  '2026-11-21T1500-create-api-key': createApiKey,
  '2026-11-21T1600-file-created-ms': fileCreatedMs,
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS }

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'kysely_migration', migrationLockTableName: 'kysely_migration_lock' })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw new Error('database migration failed', { cause: error })
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
