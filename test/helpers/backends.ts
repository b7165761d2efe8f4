/**
 * The backends every suite runs on: always local disk + PGlite; and, when
 * DATABASE_URL and/or S3_* are set for the tests, Postgres and/or S3 too.
 * DATABASE_URL names a server where a throwaway database is created per server.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { type Config, loadConfig } from '../../server/config.ts'

export type Backend = { name: string; postgres: boolean; s3: boolean }

export function backends(): Backend[] {
  const list: Backend[] = [{ name: 'disk+pglite', postgres: false, s3: false }]
  const postgres = Boolean(process.env.DATABASE_URL)
  const s3 = Boolean(process.env.S3_BUCKET)
  if (postgres || s3) list.push({ name: `${s3 ? 's3' : 'disk'}+${postgres ? 'postgres' : 'pglite'}`, postgres, s3 })
  return list
}

const S3_VARS = ['S3_BUCKET', 'S3_ENDPOINT', 'S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE'] as const

/**
 * For the suites about moving bytes (tus, REST, records): no worker runs, so a
 * finished upload stays 'uploaded' with its job queued, and no parser process
 * competes for the CPU; any type is accepted and creations are not rate
 * limited (these suites send random bytes, many uploads a second). The
 * pipeline suites run the worker; the limits have suites of their own.
 */
export const UPLOAD_ONLY: Record<string, string> = { WORKER_CONCURRENCY: '0', ALLOWED_TYPES: '*', UPLOAD_RATE_LIMIT: '0', CORS_ORIGINS: '*' }

export type TestEnv = { env: Record<string, string>; config: Config; dataDir: string; cleanup(): Promise<void> }

/** A fresh data directory (and database) for one server; `extra` overrides any variable. */
export async function makeTestEnv(backend: Backend, extra: Record<string, string> = {}): Promise<TestEnv> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'filedock-test-'))
  const env: Record<string, string> = { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }
  let dropDatabase = async () => {}
  if (backend.postgres) {
    const admin = process.env.DATABASE_URL as string
    const name = `filedock_test_${randomBytes(6).toString('hex')}`
    const client = new pg.Client({ connectionString: admin })
    await client.connect()
    await client.query(`create database ${name}`)
    await client.end()
    const url = new URL(admin)
    url.pathname = `/${name}`
    env.DATABASE_URL = url.toString()
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: admin })
      await c.connect()
      await c.query(`drop database if exists ${name} with (force)`)
      await c.end()
    }
  }
  if (backend.s3) for (const name of S3_VARS) if (process.env[name]) env[name] = process.env[name] as string
  Object.assign(env, extra)
  return {
    env,
    config: loadConfig(env),
    dataDir,
    async cleanup() {
      await dropDatabase()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
