/**
 * One kysely over either database: Postgres through pg when a URL is given,
 * else PGlite (Postgres compiled to WASM) persisted in a directory.
 */
import { mkdir } from 'node:fs/promises'
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely'
import { PGliteProcess } from './pglite-process.ts'
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
  const pglite = new PGliteProcess(target.pgliteDir)
  await pglite.waitReady
  // PGliteProcess provides the part of PGlite's interface that the dialect calls.
  return new Kysely<Database>({ dialect: new PGliteDialect({ pglite: pglite as unknown as ConstructorParameters<typeof PGliteDialect>[0]['pglite'] & object }) })
}

export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute()
}

export type Subscription = { close(): Promise<void> }

/**
 * LISTEN on a channel over a connection of its own (a pooled one cannot
 * listen), reconnecting after a lost connection. Postgres only.
 */
export async function listen(url: string, channel: string, onPayload: (payload: string) => void, onError: (err: unknown) => void): Promise<Subscription> {
  const { default: pg } = await import('pg')
  let client: InstanceType<typeof pg.Client> | undefined
  let closed = false
  let retry: NodeJS.Timeout | undefined

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url })
    c.on('notification', (msg) => {
      if (msg.channel === channel && msg.payload) onPayload(msg.payload)
    })
    c.on('error', (err) => {
      onError(err)
      reconnect()
    })
    await c.connect()
    await c.query(`LISTEN ${channel}`)
    client = c
  }
  const reconnect = () => {
    if (closed || retry) return
    void client?.end().catch(() => {})
    client = undefined
    retry = setTimeout(() => {
      retry = undefined
      connect().catch((err: unknown) => {
        onError(err)
        reconnect()
      })
    }, 1000)
    retry.unref()
  }

  await connect()
  return {
    async close() {
      closed = true
      clearTimeout(retry)
      await client?.end().catch(() => {})
    },
  }
}
