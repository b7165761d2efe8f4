/**
 * Upload locks, as @tus/utils' Locker interface describes them: one request at
 * a time writes to an upload; a waiter may ask the holder to let go.
 * QueueLocker serves one process; PostgresLocker adds a lease in Postgres so
 * that several instances behind a load balancer share the same locks.
 */
import type { Locker } from '@tus/utils'

export interface UploadLocker extends Locker {
  /** Uploads locked by this process right now. */
  readonly size: number
  /** Lets go of background work (listeners, timers) and of every lock this process still holds. */
  close(): Promise<void>
}

/**
 * Runs `work` holding upload `id`'s lock, for work that must not interleave with a request writing the upload, a
 * removal or the expiry sweep. A holder that is asked to let go is not interrupted: `work` finishes first.
 */
export async function whileLocked<T>(locker: Locker, id: string, work: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const lock = locker.newLock(id)
  await lock.lock(AbortSignal.timeout(timeoutMs), () => {})
  try {
    return await work()
  } finally {
    await lock.unlock()
  }
}
