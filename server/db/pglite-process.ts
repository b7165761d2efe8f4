/**
 * PGlite in a child process of its own, behind the small part of PGlite's
 * API that kysely's PGliteDialect uses (query, transaction, close, ready):
 * the embedded default's database runs beside the server, as Postgres would.
 *
 * Why not in the server's process: PGlite in the main isolate made every
 * upload slower. Its large JS heap and external memory make V8's full GCs,
 * which the stream of 64 KiB request buffers triggers, far more expensive:
 * on a 512 MiB PATCH, GC went from ~10 ms to ~200 ms and throughput fell by
 * about a third. A worker thread fixed the GC but still held ~450 MiB of
 * WASM memory in the server's own RSS. A process also keeps a crash of the
 * WASM build away from the uploads; it exits when the server goes away.
 */
import { type ChildProcess, fork } from 'node:child_process'

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void }
type QueryResult = { rows: unknown[]; affectedRows?: number }
type Querier = { query<T>(sql: string, params?: unknown[], options?: unknown): Promise<{ rows: T[]; affectedRows?: number }> }

export class PGliteProcess implements Querier {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  ready = false
  closed = false
  readonly waitReady: Promise<void>

  constructor(dataDir: string) {
    // 'advanced' serialization: rows keep their Dates and BigInts.
    this.#child = fork(new URL('./pglite-child.ts', import.meta.url), [dataDir], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.waitReady = new Promise((resolve, reject) => {
      const onMessage = (msg: { ready?: boolean }) => {
        if (!msg.ready) return
        this.ready = true
        this.#child.off('message', onMessage)
        resolve()
      }
      this.#child.on('message', onMessage)
      this.#child.once('error', reject)
      this.#child.once('exit', (code) => reject(new Error(`PGlite process exited with code ${code} while starting`)))
    })
    this.#child.on('message', (msg: { id?: number; ok?: boolean; value?: unknown; error?: Record<string, unknown> }) => {
      if (msg.id === undefined) return
      const pending = this.#pending.get(msg.id)
      if (!pending) return
      this.#pending.delete(msg.id)
      if (msg.ok) pending.resolve(msg.value)
      else pending.reject(Object.assign(new Error(String(msg.error?.message ?? 'PGlite error')), msg.error))
    })
    this.#child.on('error', (error) => this.#failAll(error))
    this.#child.on('exit', (code, signal) => this.#failAll(new Error(`PGlite process exited (${signal ?? code})`)))
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
      this.#child.send({ ...message, id })
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
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((resolve) => this.#child.once('exit', resolve))
      this.#child.disconnect()
      await exited
    }
  }
}
