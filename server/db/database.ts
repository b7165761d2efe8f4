/**
 * One kysely over either database: Postgres through pg when a URL is given,
 * else PGlite (Postgres compiled to WASM) persisted in a directory.
 */
import { mkdir } from 'node:fs/promises'
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely'
import type { Database } from './schema.ts'

export type DatabaseTarget = { url: string } | { pgliteDir: string }

export async function createDatabase(target: DatabaseTarget): Promise<Kysely<Database>> {
  if ('url' in target) {
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: target.url, max: 10, connectionTimeoutMillis: 10_000 })
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {})
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  }
  await mkdir(target.pgliteDir, { recursive: true })
  const { PGlite } = await import('@electric-sql/pglite')
  const pglite = await PGlite.create(target.pgliteDir)
  return new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) })
}

export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute()
}
