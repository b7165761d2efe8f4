/**
 * Builds every client from the config, prepares the database and the
 * storage, and serves. main.ts calls this; so do the tests and benchmarks,
 * which need a real server on a real port without a process of their own.
 */
import { once } from 'node:events'
import { mkdir } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { type Kysely, sql } from 'kysely'
import type { Logger } from 'pino'
import { buildApp } from './app.ts'
import type { Config } from './config.ts'
import { createDatabase, listen } from './db/database.ts'
import { migrateToLatest } from './db/migrate.ts'
import type { Database } from './db/schema.ts'
import { createMetrics } from './metrics.ts'
import { createFileStorage } from './storage/file-storage.ts'
import type { Storage } from './storage/storage.ts'
import { PostgresLocker } from './locks/postgres-locker.ts'
import { QueueLocker } from './locks/queue-locker.ts'
import type { UploadLocker } from './locks/upload-locker.ts'
import { LOCK_RELEASE_CHANNEL } from './db/upload-lock.repository.ts'
import { expireUploads, reconcileUploads } from './uploads/maintenance.ts'
import { createUploadHooks } from './uploads/upload-hooks.ts'
import { createFileEvents, FILE_CHANGED_CHANNEL, type FileEvents } from './pipeline/file-events.ts'
import { startWorker } from './pipeline/worker.ts'
import { makeParseTmpRoot } from './pipeline/parse-tmp.ts'
import { createParserPool } from './pipeline/parse-process.ts'
import { createAuthenticate } from './auth/authenticate.ts'
import { createJwtVerifier } from './auth/jwt.ts'
import { createApiKeyVerifier } from './auth/api-keys.ts'
import { parseTypeRules } from './uploads/type-rules.ts'
import { createRateLimiter } from './uploads/rate-limit.ts'
import { clientConfigOf } from './http/config.router.ts'

export type RunningServer = {
  url: string
  server: http.Server
  db: Kysely<Database>
  storage: Storage
  events: FileEvents
  /** Runs the expiry sweep now (the timer runs it every CLEANUP_INTERVAL_SECONDS). */
  sweep(now?: Date): Promise<number>
  close(): Promise<void>
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true })
  const db = await createDatabase(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir: path.join(config.dataDir, 'pglite') })
  const applied = await migrateToLatest(db)
  if (applied.length > 0) log.info({ migrations: applied }, 'db.migrated')

  let storage: Storage
  if (config.s3) {
    // Loaded only when used: the AWS SDK is a large part of the heap, and every
    // full GC on the upload path scans the whole heap.
    const { createS3Storage } = await import('./storage/s3-storage.ts')
    storage = createS3Storage({ s3: config.s3, expirationMs: config.uploadExpiryMs })
  } else {
    storage = await createFileStorage({ directory: path.join(config.dataDir, 'uploads'), expirationMs: config.uploadExpiryMs })
  }

  // PGlite is one process by nature; on Postgres several instances may serve the same uploads.
  const databaseUrl = config.databaseUrl
  const locker: UploadLocker = databaseUrl
    ? await PostgresLocker.create({
        db,
        subscribe: (onRelease) => listen(databaseUrl, LOCK_RELEASE_CHANNEL, onRelease, (err) => log.warn({ err }, 'locks.listen_failed')),
        onError: (err) => log.warn({ err }, 'locks.lease_failed'),
      })
    : new QueueLocker()
  const metrics = createMetrics({ activeLocks: () => locker.size })
  // With Postgres, every change is also a NOTIFY: waiters and idle workers on other instances hear it.
  const events = createFileEvents(
    databaseUrl
      ? (id) => {
          sql`select pg_notify(${FILE_CHANGED_CHANNEL}, ${id})`.execute(db).catch((err: unknown) => log.warn({ err }, 'events.notify_failed'))
        }
      : undefined,
  )
  const changes = databaseUrl ? await listen(databaseUrl, FILE_CHANGED_CHANNEL, (id) => events.heard(id), (err) => log.warn({ err }, 'events.listen_failed')) : undefined
  const limits = { quotaBytes: config.limits.userQuotaBytes, typeRules: parseTypeRules(config.limits.allowedTypes) }
  const hooks = createUploadHooks({ db, storage, log, metrics, limits, onFinished: (id) => events.changed(id) })
  const upkeep = { db, storage, hooks, locker, log }

  const reconciled = await reconcileUploads(upkeep)
  if (reconciled.finished > 0) log.warn(reconciled, 'reconcile.finished_uploads')

  const tmpRoot = await makeParseTmpRoot(path.join(config.dataDir, 'tmp'))
  const { pipeline } = config
  const parsers =
    pipeline.concurrency > 0
      ? createParserPool({ timeoutMs: pipeline.parseTimeoutMs, memoryBytes: pipeline.parseMemoryBytes, tmpRoot: tmpRoot.path }, Math.min(pipeline.concurrency, 2))
      : undefined
  const worker = parsers ? startWorker({ db, storage, log, config: pipeline, parsers, events, metrics }) : undefined

  const authenticate = createAuthenticate({
    mode: config.auth.mode,
    verifyJwt: config.auth.jwt ? createJwtVerifier(config.auth.jwt) : undefined,
    verifyApiKey: createApiKeyVerifier(db, { onTouchError: (err) => log.warn({ err }, 'auth.api_key_touch_failed') }),
  })
  const rateLimit = config.limits.uploadsPerMinute > 0 ? createRateLimiter(config.limits.uploadsPerMinute) : undefined
  const clientConfig = clientConfigOf(config, limits.typeRules)
  const server = http.createServer(buildApp({ db, storage, locker, hooks, log, config, metrics, events, authenticate, rateLimit, clientConfig }))
  // Large single-request uploads must not hit Node's 5-minute request timeout;
  // a silent dead client is caught by the socket idle timeout instead.
  server.requestTimeout = 0
  server.timeout = 120_000
  server.keepAliveTimeout = 65_000
  server.listen(config.port, config.host)
  await once(server, 'listening')
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`

  let sweeping: Promise<number> | undefined
  const sweep = (now?: Date) => {
    sweeping ??= expireUploads(upkeep, now)
      .then((n) => {
        metrics.uploadsExpired(n)
        return n
      })
      .finally(() => {
        sweeping = undefined
      })
    return sweeping
  }
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => log.error({ err }, 'cleanup.failed'))
  }, config.cleanupIntervalMs)
  timer.unref()

  return {
    url,
    server,
    db,
    storage,
    events,
    sweep,
    async close() {
      clearInterval(timer)
      server.closeIdleConnections()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      const forced = setTimeout(() => server.closeAllConnections(), 5000)
      await closed
      clearTimeout(forced)
      await sweeping?.catch(() => {})
      await worker?.close()
      await parsers?.close()
      await changes?.close()
      await tmpRoot.remove()
      await locker.close()
      await storage.close()
      await db.destroy()
    },
  }
}
