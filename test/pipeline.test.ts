/**
 * The pipeline end to end, on every backend: a finished upload is parsed in
 * the parser process, described, and served to an agent (status, facts,
 * description, text) without the agent polling.
 */
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from './helpers/backends.ts'
import { expectJsonError, uploadFile } from './helpers/files.ts'
import { parserTempFiles, settled } from './helpers/pipeline.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { createUpload, idOf, patch } from './helpers/tus.ts'

const PEOPLE = 'name,age,joined,score\nAda,36,2024-01-05,9.5\nGrace,45,2023-11-30,8.25\nLinus,28,2025-02-14,7\n'

function bigCsv(rows: number): string {
  const lines = ['id,city,value']
  for (let i = 1; i <= rows; i++) lines.push(`${i},city ${i % 7},${(i * 1.5).toFixed(1)}`)
  return `${lines.join('\n')}\n`
}

describe.each(backends())('pipeline on $name', (backend) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer(backend)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('takes a finished CSV from uploaded through processing to ready, with its facts and a description', async () => {
    const id = await uploadFile(server.url, Buffer.from(PEOPLE), { filename: 'people.csv', filetype: 'text/csv' })
    const file = await settled(server.url, id)
    expect(file.status).toBe('ready')
    expect(file.error).toBeNull()
    expect(file.metadata).toMatchObject({ kind: 'csv', rows: 3, columns: 4, hasHeader: true, columnNames: ['name', 'age', 'joined', 'score'], format: 'CSV', mediaType: 'text/csv' })
    const columns = file.metadata.columnFacts as { name: string; type: string; min?: number; max?: number }[]
    expect(columns.map((c) => c.type)).toEqual(['text', 'integer', 'date', 'number'])
    expect(columns[1]).toMatchObject({ min: 28, max: 45 })
    expect(file.description).toMatch(/^CSV, 3 rows x 4 columns/)
    const [uploaded, started, processed] = [file.uploadedAt, file.processingStartedAt, file.processedAt].map((t) => Date.parse(t ?? ''))
    expect(uploaded).toBeLessThanOrEqual(started as number)
    expect(started).toBeLessThanOrEqual(processed as number)
    expect(await parserTempFiles(server.testEnv.dataDir)).toEqual([])
  })

  it('serves the extracted text a page of sections at a time, as JSON or plain text', async () => {
    const id = await uploadFile(server.url, Buffer.from(bigCsv(1200)), { filename: 'values.csv' })
    expect((await settled(server.url, id)).status).toBe('ready')
    const titles: string[] = []
    let cursor: string | null = '0'
    while (cursor !== null) {
      const res = await fetch(`${server.url}/api/files/${id}/text?limit=1&cursor=${cursor}`)
      expect(res.status).toBe(200)
      const page = (await res.json()) as { sections: { index: number; title: string; text: string }[]; totalSections: number; nextCursor: string | null }
      expect(page.sections).toHaveLength(1)
      expect(page.totalSections).toBe(3)
      titles.push(page.sections[0]?.title ?? '')
      expect(page.sections[0]?.text.startsWith('id,city,value\n')).toBe(true)
      cursor = page.nextCursor
    }
    expect(titles).toEqual(['rows 1-500', 'rows 501-1000', 'rows 1001-1200'])
    const plain = await fetch(`${server.url}/api/files/${id}/text?format=plain&cursor=2`)
    expect(plain.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await plain.text()
    expect(text.startsWith('## rows 1001-1200\n\nid,city,value\n1001,city 0,1501.5')).toBe(true)
    await expectJsonError(await fetch(`${server.url}/api/files/${id}/text?limit=0`), 400, 'ERR_BAD_REQUEST')
    await expectJsonError(await fetch(`${server.url}/api/files/${id}/text?cursor=-1`), 400, 'ERR_BAD_REQUEST')
    await expectJsonError(await fetch(`${server.url}/api/files/${id}/text?format=xml`), 400, 'ERR_BAD_REQUEST')
  })

  it('marks a file whose bytes are not what its name says failed with type_mismatch', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#08f' } }).png().toBuffer()
    const id = await uploadFile(server.url, png, { filename: 'numbers.csv', filetype: 'text/csv' })
    const file = await settled(server.url, id)
    expect(file).toMatchObject({ status: 'failed', description: null, error: { code: 'type_mismatch' } })
    expect(file.error?.message).toMatch(/numbers\.csv.*PNG/)
    const text = await fetch(`${server.url}/api/files/${id}/text`)
    await expectJsonError(text, 409, 'ERR_FILE_NOT_READY')
  })

  it('streams status changes as server-sent events until the file settles', async () => {
    const data = Buffer.from(PEOPLE)
    const url = await createUpload(server.url, data.length, { filename: 'events.csv' })
    const id = idOf(url)
    const res = await fetch(`${server.url}/api/files/${id}/events`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reading = res.text()
    await new Promise((r) => setTimeout(r, 100))
    expect((await patch(url, 0, data)).status).toBe(204)
    const stream = await reading // the server ends the stream once the file is ready
    const statuses = [...stream.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1] as string) as { status: string }).status)
    expect(statuses[0]).toBe('uploading')
    expect(statuses.at(-1)).toBe('ready')
    const order = ['uploading', 'uploaded', 'processing', 'ready']
    expect(statuses.map((s) => order.indexOf(s))).toEqual([...statuses.map((s) => order.indexOf(s))].sort((a, b) => a - b))
  })

  it('answers a long-poll at once for a settled file and refuses a bad wait', async () => {
    const id = await uploadFile(server.url, Buffer.from('hello\nworld\n'), { filename: 'hi.txt' })
    await settled(server.url, id)
    const res = await fetch(`${server.url}/api/files/${id}?wait=60`)
    expect(((await res.json()) as { status: string }).status).toBe('ready')
    await expectJsonError(await fetch(`${server.url}/api/files/${id}?wait=61`), 400, 'ERR_BAD_REQUEST')
    await expectJsonError(await fetch(`${server.url}/api/files/${id}?wait=soon`), 400, 'ERR_BAD_REQUEST')
    await expectJsonError(await fetch(`${server.url}/api/files/00000000-0000-4000-8000-000000000000?wait=1`), 404, 'ERR_FILE_NOT_FOUND')
  })

  it('returns from a long-poll when the time is up, with the file as it is', async () => {
    const url = await createUpload(server.url, 10, { filename: 'never.txt' })
    const res = await fetch(`${server.url}/api/files/${idOf(url)}?wait=1`)
    expect(((await res.json()) as { status: string }).status).toBe('uploading')
  })

  it('stores facts holding a lone surrogate, a NUL and a huge key, cleaned and cut', async () => {
    const json = `{"\\ud800":1,"nul\\u0000key":"a\\u0000b","${'k'.repeat(5000)}":3}`
    const id = await uploadFile(server.url, Buffer.from(json), { filename: 'odd.json' })
    const file = await settled(server.url, id)
    expect(file).toMatchObject({ status: 'ready', error: null, metadata: { kind: 'json', records: 3 } })
    const keys = (file.metadata.schema as { key: string }[]).map((k) => k.key)
    expect(keys[0]).toBe('\ufffd')
    expect(keys[1]).toBe('nulkey')
    expect(keys[2]?.length).toBeLessThanOrEqual(1003)
  })

  it('makes an empty file ready, not failed', async () => {
    const url = await createUpload(server.url, 0, { filename: 'empty.csv', filetype: 'text/csv' })
    const file = await settled(server.url, idOf(url))
    expect(file).toMatchObject({ status: 'ready', metadata: { kind: 'csv', rows: 0 } })
    expect(file.description).toMatch(/empty/i)
  })
})
