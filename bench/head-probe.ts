/**
 * Resume-check probe, run as its own process so the load generator's busy
 * event loop does not distort what it measures. Sends a tus HEAD every
 * PROBE_INTERVAL_MS (default 20) to the upload URLs in PROBE_URLS_FILE, round
 * robin, open loop (a slow answer does not delay the next request). With
 * PROBE_CONTROL_URL set, also an OPTIONS there after every 5th HEAD (half an
 * interval later): a request that touches no storage, to tell event-loop and
 * accept delay from storage delay, sent rarely so it adds little load.
 * Prints "probe ready" once started; on "stop" (or end of stdin) waits for the
 * requests in flight and prints one JSON line:
 * {"samples":[[sentAtEpochMs, ms, status, kind], ...]} (kind 0 HEAD, 1 OPTIONS;
 * status 0 means a network error).
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { createInterface } from 'node:readline'
import { head, request } from './lean-tus-client.ts'

const urls = JSON.parse(readFileSync(process.env.PROBE_URLS_FILE ?? '', 'utf8')) as string[]
if (!Array.isArray(urls) || urls.length === 0) throw new Error('PROBE_URLS_FILE must name a JSON array of upload URLs')
const interval = Number(process.env.PROBE_INTERVAL_MS ?? 20)
const control = process.env.PROBE_CONTROL_URL
// No socket limit: a request never queues inside this process behind slow answers.
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })

const samples: [number, number, number, number][] = []
const inFlight = new Set<Promise<void>>()
let next = 0

function send(kind: 0 | 1): void {
  const sentAt = Date.now()
  const t0 = performance.now()
  const reply = kind === 0 ? head(urls[next++ % urls.length] as string, agent) : request('OPTIONS', control as string, {}, agent)
  const done = reply.then(
    (r) => {
      samples.push([sentAt, performance.now() - t0, r.status, kind])
    },
    () => {
      samples.push([sentAt, performance.now() - t0, 0, kind])
    },
  )
  inFlight.add(done)
  void done.finally(() => inFlight.delete(done))
}

let tick = 0
const timer = setInterval(() => {
  send(0)
  if (control && tick++ % 5 === 0) setTimeout(() => send(1), interval / 2)
}, interval)
process.stdout.write('probe ready\n')

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  clearInterval(timer)
  const grace = new Promise((resolve) => setTimeout(resolve, 10_000).unref())
  await Promise.race([Promise.all(inFlight), grace])
  process.stdout.write(`${JSON.stringify({ samples, unanswered: inFlight.size })}\n`)
  agent.destroy()
  process.exit(0)
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line.trim() === 'stop') void stop()
})
lines.on('close', () => void stop())
