/** /healthz: the process answers. /readyz: the database and the storage answer too. */
import { Router } from 'express'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import { pingDatabase } from '../db/database.ts'
import type { Database } from '../db/schema.ts'
import type { Storage } from '../storage/storage.ts'

const CHECK_TIMEOUT_MS = 5000

async function check(name: string, probe: () => Promise<void>, log: Logger): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)
      }),
    ])
    return 'ok'
  } catch (err) {
    log.warn({ err, check: name }, 'readiness.check_failed')
    return 'unavailable'
  } finally {
    clearTimeout(timer)
  }
}

export function healthRouter(deps: { db: Kysely<Database>; storage: Storage; log: Logger }): Router {
  const router = Router()
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })
  router.get('/readyz', async (_req, res) => {
    const [database, storage] = await Promise.all([
      check('database', () => pingDatabase(deps.db), deps.log),
      check('storage', () => deps.storage.ping(), deps.log),
    ])
    const ready = database === 'ok' && storage === 'ok'
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', checks: { database, storage: { backend: deps.storage.backend, status: storage } } })
  })
  return router
}
