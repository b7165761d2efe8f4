import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from './database.ts'

describe('PGlite in a child process behind kysely', () => {
  let dir: string
  let db: Awaited<ReturnType<typeof createDatabase>>
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pglite-process-'))
    db = await createDatabase({ pgliteDir: dir })
    await sql`create table t (id int primary key, v text)`.execute(db)
  })
  afterAll(async () => {
    await db?.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  it('commits a transaction that succeeds', async () => {
    await db.transaction().execute(async (trx) => {
      await sql`insert into t values (1, 'a')`.execute(trx)
      await sql`insert into t values (2, 'b')`.execute(trx)
    })
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from t`.execute(db)
    expect(rows[0]?.n).toBe(2)
  })

  it('rolls back every statement of a transaction that throws', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`insert into t values (3, 'c')`.execute(trx)
        throw new Error('changed my mind')
      }),
    ).rejects.toThrow('changed my mind')
    const { rows } = await sql<{ id: number }>`select id from t where id = 3`.execute(db)
    expect(rows).toEqual([])
  })

  it('passes Postgres errors through with their SQLSTATE code', async () => {
    const error = await sql`insert into t values (1, 'dup')`.execute(db).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: '23505' })
  })
})
