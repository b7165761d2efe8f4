/**
 * The raw disk sink: a plain http.createServer that pipes each request body
 * to a new file under SINK_DIR, and answers 204 once the file is closed.
 * The disk limit against which the tus servers are compared.
 */
import { createWriteStream } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'

const dir = process.env.SINK_DIR
if (!dir) throw new Error('SINK_DIR is required')
let n = 0

const server = http.createServer((req, res) => {
  const file = path.join(dir, `body-${++n}`)
  pipeline(req, createWriteStream(file)).then(
    () => {
      res.writeHead(204)
      res.end()
    },
    (err: unknown) => {
      res.writeHead(500)
      res.end(String(err))
    },
  )
})
server.requestTimeout = 0
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`sink listening on http://127.0.0.1:${port}\n`)
})
process.on('SIGTERM', () => process.exit(0))
