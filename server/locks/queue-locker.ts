/**
 * In-process upload locks for @tus/utils' Locker interface, shared by our
 * handlers and @tus/server. One holder per upload id, waiters served first in,
 * first out, woken by the release itself: no polling (the library's
 * MemoryLocker re-checks on every setImmediate, which costs event-loop turns
 * under load).
 *
 * A waiter asks the holder to let go (`requestRelease`): a PATCH whose client
 * vanished gets that request when the client comes back, ends its write with
 * what it has, and unlocks, so a resume does not wait for TCP timeouts.
 */
import type { Lock, RequestRelease } from '@tus/utils'
import { AppError } from '../errors.ts'
import type { UploadLocker } from './upload-locker.ts'

type Holder = { requestRelease: RequestRelease; waiters: Array<{ wake: () => void; requestRelease: RequestRelease }> }

export class QueueLocker implements UploadLocker {
  readonly #held = new Map<string, Holder>()
  readonly #timeoutMs: number

  constructor(options: { acquireTimeoutMs?: number } = {}) {
    this.#timeoutMs = options.acquireTimeoutMs ?? 10_000
  }

  newLock(id: string): Lock {
    let locked = false
    const lock = async (signal: AbortSignal, requestRelease: RequestRelease): Promise<void> => {
      const holder = this.#held.get(id)
      if (!holder) {
        this.#held.set(id, { requestRelease, waiters: [] })
        locked = true
        return
      }
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          requestRelease,
          wake: () => {
            cleanup()
            locked = true
            resolve()
          },
        }
        const fail = (code: 'ERR_LOCKED') => {
          cleanup()
          const i = holder.waiters.indexOf(waiter)
          if (i >= 0) holder.waiters.splice(i, 1)
          reject(new AppError(code))
        }
        const onAbort = () => fail('ERR_LOCKED')
        const timer = setTimeout(() => fail('ERR_LOCKED'), this.#timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          signal.removeEventListener('abort', onAbort)
        }
        if (signal.aborted) return fail('ERR_LOCKED')
        signal.addEventListener('abort', onAbort, { once: true })
        holder.waiters.push(waiter)
        void Promise.resolve()
          .then(() => holder.requestRelease())
          .catch(() => {})
      })
    }

    const unlock = async (): Promise<void> => {
      if (!locked) return
      locked = false
      const holder = this.#held.get(id)
      if (!holder) return
      const next = holder.waiters.shift()
      if (!next) {
        this.#held.delete(id)
        return
      }
      holder.requestRelease = next.requestRelease
      next.wake()
      // Whoever is still queued wants the lock too: pass the request on to the new holder.
      if (holder.waiters.length > 0) void Promise.resolve().then(() => holder.requestRelease()).catch(() => {})
    }

    return { lock, unlock }
  }

  /** Number of uploads currently locked (for metrics and tests). */
  get size(): number {
    return this.#held.size
  }

  async close(): Promise<void> {}
}
