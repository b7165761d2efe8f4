/**
 * How many request bodies this process reads at once. With hundreds of
 * uploads streaming, every event-loop pass serves every socket that has data,
 * so a pass grows long and a HEAD or a new connection waits behind all of
 * them (measured: p99 in seconds with 200 uploads, OPTIONS as slow as HEAD).
 * Bodies take turns instead: a body reads while it holds a slot, gives it up
 * after a quantum of bytes when others are waiting, and loses it when its
 * client goes quiet, so a stalled client never blocks the rest. A body
 * waiting for a slot is simply not read: TCP flow control holds its sender.
 */
export class BodyGate {
  readonly #queue: Array<() => void> = []
  readonly #holders = new Set<GateHolder>()
  #free: number
  #sweeper: NodeJS.Timeout | undefined

  readonly slots: number
  readonly quantumBytes: number
  readonly idleMs: number

  constructor(slots: number, quantumBytes = 4 * 1024 * 1024, idleMs = 250) {
    this.slots = slots
    this.quantumBytes = quantumBytes
    this.idleMs = idleMs
    this.#free = slots
  }

  holds(holder: GateHolder): boolean {
    return this.#holders.has(holder)
  }

  get waiting(): number {
    return this.#queue.length
  }

  /** Resolves once `holder` has a slot; returns undefined when it got one at once. */
  acquire(holder: GateHolder): Promise<void> | undefined {
    if (this.#free > 0) {
      this.#free--
      this.#hold(holder)
      return undefined
    }
    return new Promise((resolve) => {
      this.#queue.push(() => {
        this.#hold(holder)
        resolve()
      })
    })
  }

  release(holder: GateHolder): void {
    if (!this.#holders.delete(holder)) return
    const next = this.#queue.shift()
    if (next) next()
    else this.#free++
    if (this.#holders.size === 0) this.#stopSweeper()
  }

  #hold(holder: GateHolder): void {
    holder.lastActivity = Date.now()
    this.#holders.add(holder)
    this.#sweeper ??= setInterval(() => this.#sweep(), this.idleMs).unref()
  }

  /** Quiet holders give their slot to a waiting body. */
  #sweep(): void {
    if (this.#queue.length === 0) return
    const quietSince = Date.now() - this.idleMs
    for (const holder of this.#holders) if (holder.lastActivity < quietSince) this.release(holder)
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper)
    this.#sweeper = undefined
  }
}

export type GateHolder = { lastActivity: number }
