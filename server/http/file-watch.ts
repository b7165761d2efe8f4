/**
 * Waiting for a file without polling: GET /api/files/:id?wait=<seconds>
 * (long-poll: answers as soon as the file is ready or failed, or when the
 * time is up) and GET /api/files/:id/events (server-sent events: one `file`
 * event per change, the stream ends once the file is ready or failed).
 * Both wake on FileEvents; a slow re-read covers a change notice that was
 * lost (a dropped LISTEN connection).
 */
import type { Response } from 'express'
import type { FileRecord } from '../db/file.repository.ts'
import type { FileEvents } from '../pipeline/file-events.ts'
import { toFileJson } from './file-json.ts'

export const MAX_WAIT_SECONDS = 60
const RECHECK_MS = 5000
const SSE_PING_MS = 15_000
const SSE_MAX_MS = 10 * 60_000

export const isSettled = (file: FileRecord) => file.status === 'ready' || file.status === 'failed'

type Load = () => Promise<FileRecord | undefined>

/** Calls `onChange` on every change notice and every RECHECK_MS, until the returned stop function is called. */
function watch(events: FileEvents, id: string, onChange: () => void): () => void {
  const unsubscribe = events.subscribe(id, onChange)
  const timer = setInterval(onChange, RECHECK_MS)
  return () => {
    unsubscribe()
    clearInterval(timer)
  }
}

/** Resolves with the file once it is settled, gone, or the time is up. */
export function waitForSettled(events: FileEvents, id: string, load: Load, first: FileRecord, timeoutMs: number, signal: AbortSignal): Promise<FileRecord | undefined> {
  if (isSettled(first) || timeoutMs <= 0) return Promise.resolve(first)
  return new Promise((resolve) => {
    let latest: FileRecord | undefined = first
    let reading = false
    const finish = () => {
      stop()
      clearTimeout(timer)
      signal.removeEventListener('abort', finish)
      resolve(latest)
    }
    const check = () => {
      if (reading) return
      reading = true
      load()
        .then((file) => {
          latest = file
          if (!file || isSettled(file)) finish()
        }, () => {})
        .finally(() => {
          reading = false
        })
    }
    const stop = watch(events, id, check)
    const timer = setTimeout(finish, timeoutMs)
    signal.addEventListener('abort', finish, { once: true })
    check() // a change between the first read and the subscription is not missed
  })
}

/** Streams the file's record as server-sent events until it settles or the client leaves. */
export async function streamFileEvents(events: FileEvents, res: Response, load: Load, first: FileRecord): Promise<void> {
  res.status(200)
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8')
  res.setHeader('Cache-Control', 'no-cache, no-transform')
  res.setHeader('X-Accel-Buffering', 'no')
  res.flushHeaders()
  res.write('retry: 3000\n\n')
  let last = ''
  const send = (file: FileRecord) => {
    const key = `${file.status}|${file.updatedAt.toISOString()}`
    if (key === last) return
    last = key
    res.write(`event: file\nid: ${file.updatedAt.getTime()}\ndata: ${JSON.stringify(toFileJson(file))}\n\n`)
  }
  send(first)
  if (isSettled(first)) {
    res.end()
    return
  }
  await new Promise<void>((resolve) => {
    let reading = false
    const done = () => {
      stop()
      clearInterval(ping)
      clearTimeout(lifetime)
      res.off('close', done)
      if (!res.writableEnded) res.end()
      resolve()
    }
    const check = () => {
      if (reading || res.writableEnded || res.destroyed) return
      reading = true
      load()
        .then((file) => {
          if (res.writableEnded || res.destroyed) return
          if (!file) {
            res.write('event: deleted\ndata: {}\n\n')
            return done()
          }
          send(file)
          if (isSettled(file)) done()
        }, () => {})
        .finally(() => {
          reading = false
        })
    }
    const stop = watch(events, first.id, check)
    const ping = setInterval(() => res.write(': ping\n\n'), SSE_PING_MS)
    // A stream ends after a while even on a file that never settles; EventSource reconnects on its own.
    const lifetime = setTimeout(done, SSE_MAX_MS)
    res.on('close', done)
    check()
  })
}
