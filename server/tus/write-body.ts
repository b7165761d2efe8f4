/**
 * Streams a request body into the store, Node stream to Node stream: no web
 * stream round trip per chunk (the library's path converts the request to a
 * WHATWG stream and back, which measured at ~0.6 of raw HTTP).
 *
 * The body is ended gracefully, not destroyed, when the client vanishes or
 * another request asks for the upload's lock: the store then keeps every byte
 * that arrived (S3: as the .part object), and the next PATCH resumes there.
 * A body that runs past its limit is ended the same way, never failed: see BodyLimit.
 */
import type { IncomingMessage } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'
import type { Storage } from '../storage/storage.ts'
import type { BodyGate } from './body-gate.ts'

/**
 * Passes at most `limit` bytes; past it, the bytes up to the limit go on, the
 * rest is dropped and `onExceeded` ends the body. It never fails the stream:
 * the S3 store attaches its listeners only after a few requests of its own
 * (an 'error' then was uncaught and took the process down), and a failed write
 * loses the previous PATCH's .part, which it has already deleted and prepended
 * to this body. "The Server SHOULD always attempt to store as much of the
 * received data as possible."
 */
class BodyLimit extends Transform {
  received = 0
  exceeded = false
  /** For the gate: when this body last moved bytes. */
  lastActivity = 0
  readonly #limit: number
  readonly #onExceeded: () => void
  readonly #gate: BodyGate
  #sinceSlot = 0
  constructor(limit: number, gate: BodyGate, onExceeded: () => void) {
    // The default high-water mark (64 KiB): a larger one multiplied by hundreds of concurrent uploads is the server's memory.
    super()
    this.#limit = limit
    this.#gate = gate
    this.#onExceeded = onExceeded
  }
  override _transform(chunk: Buffer, enc: BufferEncoding, done: TransformCallback): void {
    if (this.exceeded) return done()
    if (!this.#holding()) {
      const wait = this.#gate.acquire(this)
      this.#sinceSlot = 0
      if (wait) {
        void wait.then(() => {
          // Destroyed while queued (the client went away): hand the slot straight on.
          if (this.destroyed) {
            this.#gate.release(this)
            return done()
          }
          this._transform(chunk, enc, done)
        })
        return
      }
    }
    this.lastActivity = Date.now()
    this.#sinceSlot += chunk.length
    // A quantum read and others waiting: take turns.
    if (this.#sinceSlot >= this.#gate.quantumBytes && this.#gate.waiting > 0) this.#gate.release(this)
    const room = this.#limit - this.received
    if (chunk.length <= room) {
      this.received += chunk.length
      return done(null, chunk)
    }
    this.exceeded = true
    this.received = this.#limit
    if (room > 0) this.push(chunk.subarray(0, room))
    this.#onExceeded()
    done()
  }
  #holding(): boolean {
    return this.#gate.holds(this)
  }

  override _flush(done: TransformCallback): void {
    this.#gate.release(this)
    done()
  }
  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.#gate.release(this)
    done(error)
  }
}

/** `exceeded`: the body went past the limit; the bytes up to it were stored. */
export type WriteResult = { offset: number; complete: boolean; exceeded: boolean }

export async function writeBody(
  req: IncomingMessage,
  storage: Storage,
  id: string,
  offset: number,
  limit: number,
  stop: AbortSignal,
  gate: BodyGate,
): Promise<WriteResult> {
  let stopped = false
  const body = new BodyLimit(limit, gate, () => end())
  const end = () => {
    if (stopped || req.complete) return
    stopped = true
    req.unpipe(body)
    body.end()
  }
  const onClose = () => end()
  req.once('close', onClose)
  req.on('error', end)
  stop.addEventListener('abort', end, { once: true })
  req.pipe(body)
  // A release asked for while the PATCH was still loading the upload (after it took the lock) counts too;
  // so does a client that was gone before its body was read ('close' has fired already and will not again).
  if (stop.aborted || req.destroyed) end()
  try {
    const newOffset = await storage.datastore.write(body, id, offset)
    return { offset: newOffset, complete: !stopped, exceeded: body.exceeded }
  } finally {
    req.off('close', onClose)
    req.off('error', end)
    stop.removeEventListener('abort', end)
    if (stopped || body.exceeded) req.unpipe(body)
  }
}
