/**
 * Several instances behind a load balancer, sharing Postgres (and S3 or a
 * shared disk): upload locks live in Postgres, so a resume that lands on
 * another instance takes over from a stalled request on the first, and the
 * locks of an instance that died lapse on their own.
 */
import http from 'node:http'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningServer, startServer } from '../server/start.ts'
import { backends, makeTestEnv, type TestEnv, UPLOAD_ONLY } from './helpers/backends.ts'
import { createUpload, idOf, patch, randomData, sha256, TUS, waitFor } from './helpers/tus.ts'

const KiB = 1024

// Needs Postgres (DATABASE_URL): PGlite is one process by nature. Without it the suite shows as skipped.
const shared = backends().find((b) => b.postgres)

describe.skipIf(!shared)(`two instances on ${shared?.name ?? 'Postgres (DATABASE_URL unset)'}`, () => {
  const backend = shared as NonNullable<typeof shared>
  let env: TestEnv
  let a: RunningServer
  let b: RunningServer
  beforeAll(async () => {
    env = await makeTestEnv(backend, UPLOAD_ONLY)
    a = await startServer(env.config, pino({ level: 'silent' }))
    b = await startServer(env.config, pino({ level: 'silent' }))
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await env?.cleanup()
  })

  async function offsetOn(server: RunningServer, id: string): Promise<number> {
    const res = await fetch(`${server.url}/files/${id}`, { method: 'HEAD', headers: TUS })
    expect(res.status).toBe(200)
    return Number(res.headers.get('upload-offset'))
  }

  it('lets a resume on the second instance take over from a stalled PATCH on the first', async () => {
    const data = randomData(6 * 1024 * KiB)
    const urlA = await createUpload(a.url, data.length, { filename: 'moved.bin' })
    const id = idOf(urlA)

    // A client sends part of a PATCH to instance A, then stalls with the connection open.
    const stalled = http.request(urlA, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(data.length) },
    })
    const stalledAnswer = new Promise<number>((resolve) => {
      stalled.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      stalled.on('error', () => resolve(-1))
    })
    stalled.write(data.subarray(0, 512 * KiB))
    await waitFor(async () => ((await lockHeldOn(id)) ? true : undefined), 10_000, 'lease held by A')

    // The client comes back through the load balancer and lands on instance B.
    let offset = await offsetOn(b, id)
    let res = await patch(`${b.url}/files/${id}`, offset, data.subarray(offset))
    if (res.status === 409) {
      // A kept what it had received when it let go: resume from there.
      offset = Number(res.headers.get('upload-offset'))
      res = await patch(`${b.url}/files/${id}`, offset, data.subarray(offset))
    }
    expect(res.status).toBe(204)
    expect(res.headers.get('upload-offset')).toBe(String(data.length))
    expect(await stalledAnswer).not.toBe(0)
    stalled.destroy()

    const body = new Uint8Array(await (await fetch(`${b.url}/api/files/${id}/content`)).arrayBuffer())
    expect(sha256(body)).toBe(sha256(data))
    expect(await leaseCount(id)).toBe(0)
  })

  it('lets a lock left behind by an instance that died lapse with its lease', async () => {
    const url = await createUpload(a.url, 10)
    const id = idOf(url)
    // What a crashed instance leaves: a lease nobody renews and nobody answers release requests for.
    await a.db.insertInto('upload_lock').values({ upload_id: id, holder: 'crashed-instance', expires_at: new Date(Date.now() + 1500) }).execute()
    const res = await patch(`${b.url}/files/${id}`, 0, Buffer.from('0123456789'))
    expect(res.status).toBe(204)
    expect(res.headers.get('upload-offset')).toBe('10')
  })

  async function lockHeldOn(id: string): Promise<boolean> {
    return (await leaseCount(id)) === 1
  }

  async function leaseCount(id: string): Promise<number> {
    const rows = await a.db.selectFrom('upload_lock').select('holder').where('upload_id', '=', id).execute()
    return rows.length
  }
})
