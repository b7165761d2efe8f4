/**
 * Runs PGlite in a child process (see pglite-process.ts for why). Messages in:
 * { id, op: 'query', sql, params, tx? } | { id, op: 'begin' } |
 * { id, op: 'commit' | 'rollback', tx } | { id, op: 'close' }.
 * Messages out: { id, ok: true, value } | { id, ok: false, error }.
 */
import { PGlite, type Transaction } from '@electric-sql/pglite'

type Request =
  | { id: number; op: 'query'; sql: string; params: unknown[]; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'close' }

if (!process.send) throw new Error('pglite-child must be started with an IPC channel (child_process.fork)')
const rawSend = process.send.bind(process)
// A reply to a parent that has already gone (closing while a query was in flight) has nowhere to go: drop it
// rather than crash on EPIPE.
const send = (message: unknown) => {
  if (process.connected) rawSend(message, undefined, undefined, () => {})
}
process.on('error', () => {})
// The server is gone (even by SIGKILL): stop at once, so that a restarted
// server never finds a second PGlite on the same directory.
process.on('disconnect', () => process.exit(0))

const dataDir = process.argv[2]
if (!dataDir) throw new Error('usage: pglite-child.ts <data directory>')
const pglite = await PGlite.create(dataDir)
const transactions = new Map<number, { tx: Transaction; finish: (commit: boolean) => void; settled: Promise<unknown> }>()
let nextTx = 1
/** Thrown inside PGlite's transaction callback to make it roll back. */
const ROLLBACK = Symbol('rollback')

function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) }
  const fields: Record<string, unknown> = { name: error.name, message: error.message }
  for (const key of ['code', 'detail', 'hint', 'constraint', 'table', 'column', 'schema', 'severity']) {
    const value = (error as unknown as Record<string, unknown>)[key]
    if (value !== undefined) fields[key] = value
  }
  return fields
}

async function handle(msg: Request): Promise<unknown> {
  switch (msg.op) {
    case 'query': {
      const target = msg.tx === undefined ? pglite : transactions.get(msg.tx)?.tx
      if (!target) throw new Error(`transaction ${msg.tx} is not open`)
      const { rows, affectedRows } = await target.query(msg.sql, msg.params, { rowMode: 'object' })
      return { rows, affectedRows }
    }
    case 'begin': {
      const id = nextTx++
      return new Promise((resolve, reject) => {
        let finish!: (commit: boolean) => void
        const decided = new Promise<boolean>((r) => {
          finish = r
        })
        const settled = pglite
          .transaction(async (tx) => {
            transactions.set(id, { tx, finish, settled })
            resolve(id)
            if (!(await decided)) throw ROLLBACK
          })
          .catch((error: unknown) => {
            reject(error)
            throw error
          })
        settled.catch(() => {})
      })
    }
    case 'commit':
    case 'rollback': {
      const open = transactions.get(msg.tx)
      if (!open) throw new Error(`transaction ${msg.tx} is not open`)
      transactions.delete(msg.tx)
      open.finish(msg.op === 'commit')
      await open.settled.catch((error: unknown) => {
        if (error !== ROLLBACK) throw error
      })
      return null
    }
    case 'close':
      await pglite.close()
      return null
  }
}

process.on('message', (msg: Request) => {
  handle(msg).then(
    (value) => send({ id: msg.id, ok: true, value }),
    (error: unknown) => send({ id: msg.id, ok: false, error: serializeError(error) }),
  )
})
send({ ready: true })
