/**
 * Real tus clients against the real server: tus-js-client (Node) uploads,
 * is aborted mid-chunk, and a new client resumes from the stored URL; the
 * server is SIGKILLed mid-upload and started again; 20 uploads at once, each
 * interrupted at a random point and resumed. Bytes are checked by sha256 of
 * what /api/files/:id/content serves.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tus from 'tus-js-client'
import { backends, makeTestEnv, type TestEnv, UPLOAD_ONLY } from './helpers/backends.ts'
import { spawnServer, startTestServer, type TestServer } from './helpers/server.ts'
import { idOf, sha256, waitFor } from './helpers/tus.ts'
import { contentSha, fileJson } from './helpers/files.ts'

const MiB = 1024 * 1024

type Outcome = { url: string }

/** Starts an upload with tus-js-client; resolves when it succeeds. `onProgress` sees the acknowledged bytes. */
function upload(
  endpoint: string,
  data: Buffer,
  options: { chunkSize?: number; uploadUrl?: string; onProgress?: (sent: number, upload: tus.Upload) => void; filename?: string } = {},
): { done: Promise<Outcome>; upload: tus.Upload } {
  let resolve!: (o: Outcome) => void
  let reject!: (e: Error) => void
  const done = new Promise<Outcome>((res, rej) => {
    resolve = res
    reject = rej
  })
  const up = new tus.Upload(data, {
    endpoint: `${endpoint}/files`,
    uploadUrl: options.uploadUrl,
    chunkSize: options.chunkSize ?? 8 * MiB,
    retryDelays: [100, 300, 1000, 2000, 3000],
    metadata: { filename: options.filename ?? 'data.bin', filetype: 'application/octet-stream' },
    onProgress: (sent) => options.onProgress?.(sent, up),
    onSuccess: () => resolve({ url: up.url as string }),
    onError: (e) => reject(e),
  })
  up.start()
  return { done, upload: up }
}

describe.each(backends())('tus-js-client on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend, UPLOAD_ONLY)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('resumes a 64 MiB upload from the stored URL after an abort mid-chunk, bytes intact', async () => {
    const data = randomBytes(64 * MiB)
    let aborted = false
    const first = upload(server.url, data, {
      chunkSize: 8 * MiB,
      onProgress: (sent, up) => {
        // Past 3 acknowledged chunks and mid-way through the fourth: abort.
        if (!aborted && sent > 28 * MiB) {
          aborted = true
          void up.abort()
        }
      },
    })
    await waitFor(async () => (aborted ? true : undefined), 60_000, 'abort')
    const url = first.upload.url as string
    expect(url).toMatch(/\/files\/[0-9a-f-]{36}$/)
    const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
    const offset = Number(head.headers.get('upload-offset'))
    expect(offset).toBeGreaterThan(0)
    expect(offset).toBeLessThan(64 * MiB)
    expect(offset % (8 * MiB)).toBe(offset === 0 ? 0 : offset % (8 * MiB))

    let firstProgress = -1
    const second = upload(server.url, data, {
      uploadUrl: url,
      onProgress: (sent) => {
        if (firstProgress < 0) firstProgress = sent
      },
    })
    await second.done
    // The second client started from the server's offset, not from zero.
    expect(firstProgress).toBeGreaterThanOrEqual(offset)
    const id = idOf(url)
    expect(await fileJson(server.url, id)).toMatchObject({ status: 'uploaded', size: 64 * MiB })
    expect(await contentSha(server.url, id)).toBe(sha256(data))
  })

  it('finishes 20 concurrent uploads, each interrupted at a random point and resumed', async () => {
    const files = Array.from({ length: 20 }, (_, i) => randomBytes((1 + (i % 4)) * MiB + i * 1013))
    const results = await Promise.all(
      files.map(async (data, i) => {
        const cut = Math.floor(Math.random() * data.length * 0.9)
        let stopped = false
        const first = upload(server.url, data, {
          chunkSize: 256 * 1024,
          filename: `file-${i}.bin`,
          onProgress: (sent, up) => {
            if (!stopped && sent >= cut) {
              stopped = true
              void up.abort()
            }
          },
        })
        await waitFor(async () => (stopped || first.upload.url === null ? (stopped ? true : undefined) : undefined), 60_000, `abort ${i}`)
        const url = first.upload.url as string
        const second = upload(server.url, data, { uploadUrl: url, chunkSize: 256 * 1024, filename: `file-${i}.bin` })
        await second.done
        return { id: idOf(url), data }
      }),
    )
    for (const { id, data } of results) {
      expect(await fileJson(server.url, id)).toMatchObject({ status: 'uploaded', size: data.length })
      expect(await contentSha(server.url, id)).toBe(sha256(data))
    }
  })
})

describe.each(backends())('server killed mid-upload on $name', (backend) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await makeTestEnv(backend, UPLOAD_ONLY)
  })
  afterAll(async () => {
    await env?.cleanup()
  })

  it('resumes after SIGKILL and a restart on the same port, bytes intact', async () => {
    const data = randomBytes(64 * MiB)
    let server = await spawnServer(env.env)
    const port = new URL(server.url).port
    let killedAt = -1
    const first = upload(server.url, data, {
      chunkSize: 8 * MiB,
      onProgress: (sent) => {
        if (killedAt < 0 && sent > 20 * MiB) {
          killedAt = sent
          server.child.kill('SIGKILL')
        }
      },
    })
    let failure: unknown
    first.done.catch((e: unknown) => {
      failure = e
    })
    await waitFor(async () => {
      if (killedAt < 0 && failure) throw failure
      return killedAt >= 0 ? true : undefined
    }, 60_000, 'kill')
    await waitFor(async () => (server.child.exitCode !== null || server.child.signalCode !== null ? true : undefined), 10_000, 'exit')
    void first.upload.abort()
    const url = first.upload.url as string

    server = await spawnServer({ ...env.env, PORT: port })
    try {
      const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
      expect(head.status).toBe(200)
      const offset = Number(head.headers.get('upload-offset'))
      expect(offset).toBeGreaterThan(0)
      await upload(server.url, data, { uploadUrl: url }).done
      const id = idOf(url)
      expect(await fileJson(server.url, id)).toMatchObject({ status: 'uploaded', size: data.length })
      expect(await contentSha(server.url, id)).toBe(sha256(data))
    } finally {
      await server.kill()
    }
  })
})
