/**
 * Upload locks shared by every instance on one Postgres: a request first
 * takes the in-process lock (QueueLocker: instant, serves requests that hit
 * the same instance), then a lease row in upload_lock. While the lease is held
 * elsewhere the waiter asks for it back over NOTIFY; the holding instance,
 * LISTENing, passes that on to its request (a PATCH then ends its write with
 * what it has), releases, and the waiter's next attempt wins. Leases are
 * renewed while held, so the locks of an instance that died lapse within
 * one lease period.
 */
import { randomUUID } from 'node:crypto'
import type { Lock, RequestRelease } from '@tus/utils'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.ts'
import * as leases from '../db/upload-lock.repository.ts'
import { AppError } from '../errors.ts'
import { QueueLocker } from './queue-locker.ts'
import type { UploadLocker } from './upload-locker.ts'

export type PostgresLockerOptions = {
  db: Kysely<Database>
  /** Subscribes to release requests (LISTEN on leases.LOCK_RELEASE_CHANNEL); returns a closer. */
  subscribe: (onRelease: (uploadId: string) => void) => Promise<{ close(): Promise<void> }>
  leaseMs?: number
  acquireTimeoutMs?: number
  onError?: (err: unknown) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class PostgresLocker implements UploadLocker {
  readonly holder = randomUUID()
  readonly #db: Kysely<Database>
  readonly #local: QueueLocker
  readonly #held = new Map<string, RequestRelease>()
  readonly #leaseMs: number
  readonly #timeoutMs: number
  readonly #onError: (err: unknown) => void
  #subscription: { close(): Promise<void> } | undefined
  #heartbeat: NodeJS.Timeout | undefined

  private constructor(options: PostgresLockerOptions) {
    this.#db = options.db
    this.#leaseMs = options.leaseMs ?? 30_000
    this.#timeoutMs = options.acquireTimeoutMs ?? 10_000
    this.#local = new QueueLocker({ acquireTimeoutMs: this.#timeoutMs })
    this.#onError = options.onError ?? (() => {})
  }

  static async create(options: PostgresLockerOptions): Promise<PostgresLocker> {
    const locker = new PostgresLocker(options)
    locker.#subscription = await options.subscribe((id) => void Promise.resolve(locker.#held.get(id)?.()).catch(locker.#onError))
    locker.#heartbeat = setInterval(() => {
      leases.renewLeases(locker.#db, [...locker.#held.keys()], locker.holder, locker.#leaseMs).catch(locker.#onError)
    }, Math.max(1000, locker.#leaseMs / 3))
    locker.#heartbeat.unref()
    return locker
  }

  get size(): number {
    return this.#held.size
  }

  newLock(id: string): Lock {
    const local = this.#local.newLock(id)
    return {
      lock: async (signal, requestRelease) => {
        await local.lock(signal, requestRelease)
        try {
          await this.#acquireLease(id, signal)
        } catch (error) {
          await local.unlock()
          throw error
        }
        this.#held.set(id, requestRelease)
      },
      unlock: async () => {
        if (this.#held.delete(id)) await leases.releaseLease(this.#db, id, this.holder).catch(this.#onError)
        await local.unlock()
      },
    }
  }

  async #acquireLease(id: string, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs
    let delay = 20
    let askedAt = 0
    for (;;) {
      if (await leases.tryAcquireLease(this.#db, id, this.holder, this.#leaseMs)) return
      // Held by another instance: ask it to let go (again each second, in case it was busy).
      if (Date.now() - askedAt > 1000) {
        askedAt = Date.now()
        await leases.requestLeaseRelease(this.#db, id)
      }
      if (signal.aborted || Date.now() + delay > deadline) throw new AppError('ERR_LOCKED')
      await sleep(delay)
      delay = Math.min(delay * 2, 200)
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat)
    await this.#subscription?.close()
    this.#held.clear()
    await leases.releaseAllLeases(this.#db, this.holder).catch(this.#onError)
  }
}
