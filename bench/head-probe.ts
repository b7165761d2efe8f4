/**
 * Resume-check probe, run as its own process so the load generator's busy
 * event loop does not distort what it measures. Sends a tus HEAD every
 * PROBE_INTERVAL_MS (default 20) to the upload URLs in PROBE_URLS_FILE, round
 * robin, open loop (a slow answer does not delay the next request). Prints
 * "probe ready" once started; on "stop" (or end of stdin) waits for the HEADs
 * in flight and prints one JSON line: {"samples":[[sentAtEpochMs, ms, status], ...]}.
 * status 0 means a network error.
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { createInterface } from 'node:readline'
import { head } from './lean-tus-client.ts'

const urls = JSON.parse(readFileSync(process.env.PROBE_URLS_FILE ?? '', 'utf8')) as string[]
if (!Array.isArray(urls) || urls.length === 0) throw new Error('PROBE_URLS_FILE must name a JSON array of upload URLs')
const interval = Number(process.env.PROBE_INTERVAL_MS ?? 20)
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

const samples: [number, number, number][] = []
const inFlight = new Set<Promise<void>>()
let next = 0

function probe(): void {
  const url = urls[next++ % urls.length] as string
  const sentAt = Date.now()
  const t0 = performance.now()
  const done = head(url, agent).then(
    (reply) => {
      samples.push([sentAt, performance.now() - t0, reply.status])
    },
    () => {
      samples.push([sentAt, performance.now() - t0, 0])
    },
  )
  inFlight.add(done)
  void done.finally(() => inFlight.delete(done))
}

const timer = setInterval(probe, interval)
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
