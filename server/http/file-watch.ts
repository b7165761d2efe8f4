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

function openEventStream(res: Response): void {
  res.status(200)
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8')
  res.setHeader('Cache-Control', 'no-cache, no-transform')
  res.setHeader('X-Accel-Buffering', 'no')
  res.flushHeaders()
  res.write('retry: 3000\n\n')
}

const fileEvent = (file: FileRecord) => `event: file\nid: ${file.updatedAt.getTime()}\ndata: ${JSON.stringify(toFileJson(file))}\n\n`

/** What a stream has already told of a file: a notice that changes neither is not sent again. */
const stateOf = (file: FileRecord) => `${file.status}|${file.updatedAt.toISOString()}`

/**
 * Keeps an open event stream alive (a ping every SSE_PING_MS) until `follow`
 * calls its `end`, the client leaves, or SSE_MAX_MS pass (EventSource
 * reconnects on its own). `follow` starts listening and returns how to stop.
 */
function holdEventStream(res: Response, follow: (end: () => void) => () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const end = () => {
      stop()
      clearInterval(ping)
      clearTimeout(lifetime)
      res.off('close', end)
      if (!res.writableEnded) res.end()
      resolve()
    }
    const ping = setInterval(() => res.write(': ping\n\n'), SSE_PING_MS)
    const lifetime = setTimeout(end, SSE_MAX_MS)
    res.on('close', end)
    const stop = follow(end)
  })
}

/** Streams the file's record as server-sent events until it settles or the client leaves. */
export async function streamFileEvents(events: FileEvents, res: Response, load: Load, first: FileRecord): Promise<void> {
  openEventStream(res)
  let last = ''
  const send = (file: FileRecord) => {
    if (stateOf(file) === last) return
    last = stateOf(file)
    res.write(fileEvent(file))
  }
  send(first)
  if (isSettled(first)) {
    res.end()
    return
  }
  await holdEventStream(res, (end) => {
    let reading = false
    const check = () => {
      if (reading || res.writableEnded || res.destroyed) return
      reading = true
      load()
        .then((file) => {
          if (res.writableEnded || res.destroyed) return
          if (!file) {
            res.write('event: deleted\ndata: {}\n\n')
            return end()
          }
          send(file)
          if (isSettled(file)) end()
        }, () => {})
        .finally(() => {
          reading = false
        })
    }
    const stop = watch(events, first.id, check)
    check() // a change between the first read and the subscription is not missed (load is async: end runs later)
    return stop
  })
}

/**
 * Streams a `file` event for every change to any of one owner's files (a
 * finished upload, processing, ready, failed) until the client leaves or
 * SSE_MAX_MS pass: one connection for a whole file list, where one stream
 * per file would take the browser's six connections from the uploads.
 * Creations and deletions are not announced: the client made them.
 * `loadOwn` answers undefined for someone else's file.
 */
export async function streamOwnerEvents(events: FileEvents, res: Response, loadOwn: (id: string) => Promise<FileRecord | undefined>): Promise<void> {
  openEventStream(res)
  // On Postgres an instance hears its own NOTIFY after its local notice: send each state once.
  const sent = new Map<string, string>()
  await holdEventStream(res, () =>
    events.subscribeAll((id) => {
      loadOwn(id).then((file) => {
        if (!file || res.writableEnded || res.destroyed || sent.get(id) === stateOf(file)) return
        sent.set(id, stateOf(file))
        res.write(fileEvent(file))
      }, () => {})
    }),
  )
}
