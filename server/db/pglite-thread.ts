/**
 * PGlite in a worker thread, behind the small part of PGlite's API that
 * kysely's PGliteDialect uses (query, transaction, close, ready).
 *
 * Why a thread: PGlite in the main isolate made every upload slower. Its
 * large JS heap and external memory make V8's full GCs, which the stream of
 * 64 KiB request buffers triggers, far more expensive: measured on a 512 MiB
 * PATCH, GC went from ~10 ms to ~200 ms and throughput fell by about a third.
 * In its own isolate PGlite's heap is not scanned by the main thread's GC.
 */
import { Worker } from 'node:worker_threads'

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void }
type QueryResult = { rows: unknown[]; affectedRows?: number }
type Querier = { query<T>(sql: string, params?: unknown[], options?: unknown): Promise<{ rows: T[]; affectedRows?: number }> }

export class PGliteThread implements Querier {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  ready = false
  closed = false
  readonly waitReady: Promise<void>

  constructor(dataDir: string) {
    this.#worker = new Worker(new URL('./pglite-worker.ts', import.meta.url), { workerData: { dataDir } })
    this.waitReady = new Promise((resolve, reject) => {
      const onMessage = (msg: { ready?: boolean }) => {
        if (!msg.ready) return
        this.ready = true
        this.#worker.off('message', onMessage)
        resolve()
      }
      this.#worker.on('message', onMessage)
      this.#worker.once('error', reject)
    })
    this.#worker.on('message', (msg: { id?: number; ok?: boolean; value?: unknown; error?: Record<string, unknown> }) => {
      if (msg.id === undefined) return
      const pending = this.#pending.get(msg.id)
      if (!pending) return
      this.#pending.delete(msg.id)
      if (msg.ok) pending.resolve(msg.value)
      else pending.reject(Object.assign(new Error(String(msg.error?.message ?? 'PGlite error')), msg.error))
    })
    this.#worker.on('error', (error) => this.#failAll(error))
    this.#worker.on('exit', (code) => this.#failAll(new Error(`PGlite worker exited with code ${code}`)))
  }

  #failAll(error: unknown): void {
    this.closed = true
    for (const pending of this.#pending.values()) pending.reject(error)
    this.#pending.clear()
  }

  #call(message: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('PGlite is closed'))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#worker.postMessage({ ...message, id })
    })
  }

  async query<T>(sql: string, params: unknown[] = [], _options?: unknown): Promise<{ rows: T[]; affectedRows?: number }> {
    return (await this.#call({ op: 'query', sql, params })) as QueryResult as { rows: T[]; affectedRows?: number }
  }

  /** Same contract as PGlite's: commits when `fn` resolves, rolls back when it throws. */
  async transaction<T>(fn: (tx: Querier) => Promise<T>): Promise<T> {
    const tx = (await this.#call({ op: 'begin' })) as number
    const querier: Querier = {
      query: async <R>(sql: string, params: unknown[] = []) => (await this.#call({ op: 'query', sql, params, tx })) as { rows: R[]; affectedRows?: number },
    }
    let result: T
    try {
      result = await fn(querier)
    } catch (error) {
      await this.#call({ op: 'rollback', tx }).catch(() => {})
      throw error
    }
    await this.#call({ op: 'commit', tx })
    return result
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.#call({ op: 'close' }).catch(() => {})
    this.closed = true
    await this.#worker.terminate()
  }
}
