/**
 * Descriptions written by an LLM: with DESCRIBE_LLM_* set, the server asks an
 * OpenAI-compatible chat-completions endpoint (here a local server speaking
 * that API) and keeps the offline description whenever the LLM fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from './helpers/backends.ts'
import { uploadFile } from './helpers/files.ts'
import { type ChatServer, chatAnswer, settled, startChatServer } from './helpers/pipeline.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'

const CSV = 'gene_id,sample_a,sample_b\nBRCA1,1.5,2.25\nTP53,0.5,3\n'
const [backend] = backends()

describe('LLM descriptions', () => {
  let chat: ChatServer
  let server: TestServer
  let mode: 'answer' | 'error' | 'slow' = 'answer'
  beforeAll(async () => {
    chat = await startChatServer(() => {
      if (mode === 'error') return { status: 500, body: { error: { message: 'model overloaded' } } }
      if (mode === 'slow') return { status: 200, body: chatAnswer('too late'), delayMs: 5000 }
      return { status: 200, body: chatAnswer('"Expression levels of 2 genes (BRCA1, TP53) across 2 samples."\n') }
    })
    server = await startTestServer(backend as NonNullable<typeof backend>, {
      DESCRIBE_LLM_URL: chat.url,
      DESCRIBE_LLM_MODEL: 'test-model',
      DESCRIBE_LLM_API_KEY: 'sk-test-secret',
      DESCRIBE_LLM_TIMEOUT_SECONDS: '1',
    })
  })
  afterAll(async () => {
    await server?.stop()
    await chat?.close()
  })

  it('stores the LLM description, asked with the filename, the facts and a text preview', async () => {
    mode = 'answer'
    const id = await uploadFile(server.url, Buffer.from(CSV), { filename: 'expression.csv', filetype: 'text/csv' })
    const file = await settled(server.url, id)
    expect(file).toMatchObject({ status: 'ready', error: null })
    expect(file.description).toBe('Expression levels of 2 genes (BRCA1, TP53) across 2 samples.')
    const request = chat.requests.at(-1)
    expect(request?.headers.authorization).toBe('Bearer sk-test-secret')
    expect(request?.body.model).toBe('test-model')
    const prompt = JSON.stringify(request?.body.messages)
    expect(prompt).toContain('expression.csv')
    expect(prompt).toContain('gene_id')
    expect(prompt).toContain('BRCA1')
  })

  it('keeps the offline description when the LLM answers with an error', async () => {
    mode = 'error'
    const id = await uploadFile(server.url, Buffer.from(CSV), { filename: 'expression.csv' })
    const file = await settled(server.url, id)
    expect(file).toMatchObject({ status: 'ready', error: null })
    expect(file.description).toMatch(/^CSV, 2 rows x 3 columns/)
  })

  it('keeps the offline description when the LLM does not answer in time', async () => {
    mode = 'slow'
    const id = await uploadFile(server.url, Buffer.from(CSV), { filename: 'expression.csv' })
    const file = await settled(server.url, id)
    expect(file).toMatchObject({ status: 'ready', error: null })
    expect(file.description).toMatch(/^CSV, 2 rows x 3 columns/)
  })
})
