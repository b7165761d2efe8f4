/**
 * Every upload has exactly one row: 'uploading' from creation, 'uploaded' with
 * the final size at the last byte, and still 'uploaded' (once) when the process
 * died between the last byte and the database write.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../server/start.ts'
import { backends, makeTestEnv, type TestEnv, UPLOAD_ONLY } from './helpers/backends.ts'
import { createUpload, idOf, patch, TUS } from './helpers/tus.ts'
import { fileJson } from './helpers/files.ts'

type FileJson = { id: string; filename: string; contentType: string; size: number | null; status: string; uploadMetadata: Record<string, string>; uploadedAt: string | null; updatedAt: string }

const record = (base: string, id: string) => fileJson<FileJson>(base, id)

describe.each(backends())('file records on $name', (backend) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await makeTestEnv(backend, UPLOAD_ONLY)
  })
  afterAll(async () => {
    await env?.cleanup()
  })

  it('writes the row at creation and moves it to uploaded with the final size at the last byte', async () => {
    const server = await startServer(env.config, pino({ level: 'silent' }))
    try {
      const name = 'données été 東京.csv'
      const url = await createUpload(server.url, 10, { filename: name, filetype: 'text/csv', note: 'x' })
      const id = idOf(url)
      const created = await record(server.url, id)
      expect(created).toMatchObject({ id, filename: name, contentType: 'text/csv', size: 10, status: 'uploading', uploadedAt: null })
      expect(created.uploadMetadata).toEqual({ filename: name, filetype: 'text/csv', note: 'x' })
      const row = await server.db.selectFrom('file').select(['owner_id', 'storage_key', 'storage_backend']).where('id', '=', id).executeTakeFirstOrThrow()
      expect(row).toEqual({ owner_id: 'local', storage_key: id, storage_backend: backend.s3 ? 's3' : 'file' })

      expect((await patch(url, 0, Buffer.from('01234'))).status).toBe(204)
      expect((await record(server.url, id)).status).toBe('uploading')
      expect((await patch(url, 5, Buffer.from('56789'))).status).toBe(204)
      const done = await record(server.url, id)
      expect(done).toMatchObject({ status: 'uploaded', size: 10 })
      expect(done.uploadedAt).not.toBeNull()

      // A repeated finish (a HEAD on the finished upload, an empty PATCH at the end) changes nothing.
      const head = await fetch(url, { method: 'HEAD', headers: TUS })
      expect(head.headers.get('upload-offset')).toBe('10')
      expect((await patch(url, 10, Buffer.alloc(0))).status).toBe(204)
      const again = await record(server.url, id)
      expect(again.uploadedAt).toBe(done.uploadedAt)
      expect(again.updatedAt).toBe(done.updatedAt)
      const count = await server.db.selectFrom('file').select((eb) => eb.fn.countAll().as('n')).where('id', '=', id).executeTakeFirstOrThrow()
      expect(Number(count.n)).toBe(1)
    } finally {
      await server.close()
    }
  })

  it('finishes on start-up an upload whose last byte was stored but whose row was never updated', async () => {
    let server = await startServer(env.config, pino({ level: 'silent' }))
    const url = await createUpload(server.url, 6, { filename: 'crash.txt', filetype: 'text/plain' })
    const id = idOf(url)
    try {
      expect((await patch(url, 0, Buffer.from('abcdef'))).status).toBe(204)
      // The state a crash between the store's write and the database update leaves behind.
      await server.db.updateTable('file').set({ status: 'uploading', size: null, uploaded_at: null }).where('id', '=', id).execute()
      expect((await record(server.url, id)).status).toBe('uploading')
    } finally {
      await server.close()
    }
    server = await startServer(env.config, pino({ level: 'silent' }))
    try {
      // No client asks: the start-up reconcile alone finishes it.
      expect(await record(server.url, id)).toMatchObject({ status: 'uploaded', size: 6 })
      const body = await (await fetch(`${server.url}/api/files/${id}/content`)).text()
      expect(body).toBe('abcdef')
    } finally {
      await server.close()
    }
  })

  it.runIf(backend.s3)('stores the S3 object with the real Content-Type and the original filename', async () => {
    const server = await startServer(env.config, pino({ level: 'silent' }))
    try {
      const name = 'résumé "final"; 2026.pdf'
      const url = await createUpload(server.url, 4, { filename: name, filetype: 'application/pdf' })
      expect((await patch(url, 0, Buffer.from('%PDF'))).status).toBe(204)
      const s3 = env.config.s3
      if (!s3) throw new Error('no S3 config')
      const client = new S3Client({ region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle, credentials: s3.credentials && { ...s3.credentials } })
      const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: idOf(url) }))
      client.destroy()
      expect(head.ContentType).toBe('application/pdf')
      expect(head.ContentLength).toBe(4)
      expect(head.ContentDisposition).toContain("filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22%3B%202026.pdf")
    } finally {
      await server.close()
    }
  })
})
