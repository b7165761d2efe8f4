/**
 * A bare @tus/server: `new Server({ path, datastore: new FileStore(...) })`
 * and `server.listen()`. No Express, none of filedock's layers: the library's
 * own figures, for comparison.
 */
import type { AddressInfo } from 'node:net'
import { FileStore } from '@tus/file-store'
import { Server } from '@tus/server'

const directory = process.env.TUS_DIR
if (!directory) throw new Error('TUS_DIR is required')

const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) })
const server = tus.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`bare @tus/server listening on http://127.0.0.1:${port}\n`)
})
// Same as ours: large single-request uploads must not hit Node's request timeout.
server.requestTimeout = 0
process.on('SIGTERM', () => process.exit(0))
