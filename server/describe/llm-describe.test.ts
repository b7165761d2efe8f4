import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { Parsed } from '../pipeline/parsed.ts'
import { describeWithLlm, toChatCompletionsUrl } from './llm-describe.ts'

type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: any }

const PARSED: Parsed = {
  kind: 'csv',
  format: 'CSV',
  mediaType: 'text/csv',
  size: 2048,
  facts: {
    kind: 'csv', delimiter: ',', encoding: 'utf-8', bom: false, rows: 2, columns: 2, hasHeader: true, raggedRows: 0,
    columnNames: ['gene_id', 'expression'],
    columnFacts: [
      { name: 'gene_id', type: 'text', nulls: 0, samples: ['BRCA1', 'TP53'] },
      { name: 'expression', type: 'number', nulls: 0, min: 0.5, max: 9.25, samples: ['0.5', '9.25'] },
    ],
  },
  sections: [{ title: 'rows 1-2', text: 'gene_id,expression\nBRCA1,0.5\nTP53,9.25' }],
  textTruncated: false,
  notes: [],
}
const INPUT = { filename: 'genes.csv', contentType: 'text/csv', size: 2048, parsed: PARSED, preview: 'gene_id,expression\nBRCA1,0.5\nTP53,9.25' }

let server: Server | undefined

afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/** A local server speaking the chat-completions protocol; `answer` decides each reply. */
async function startLlm(answer: (seen: Seen, res: ServerResponse) => void): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = []
  server = createServer((req, res) => {
    let raw = ''
    req.on('data', (chunk) => (raw += chunk))
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw ? JSON.parse(raw) : null }
      seen.push(request)
      answer(request, res)
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return { base: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body))
}

function completion(content: string) {
  return { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }
}

describe('describeWithLlm', () => {
  it('posts the facts, the offline description and the preview, and returns the answer', async () => {
    const llm = await startLlm((_, res) => reply(res, 200, completion('Gene expression table: 2 genes (BRCA1, TP53) with one numeric expression value each.')))
    const answer = await describeWithLlm({ url: `${llm.base}/v1`, model: 'small-model', apiKey: 'sk-test-123', timeoutMs: 5000 }, INPUT)
    expect(answer).toBe('Gene expression table: 2 genes (BRCA1, TP53) with one numeric expression value each.')
    const [request] = llm.seen
    expect(request).toMatchObject({ method: 'POST', url: '/v1/chat/completions' })
    expect(request!.headers.authorization).toBe('Bearer sk-test-123')
    expect(request!.body).toMatchObject({ model: 'small-model', temperature: 0.2, max_tokens: 120 })
    const [system, user] = request!.body.messages
    expect(system.role).toBe('system')
    expect(system.content).toMatch(/one specific sentence of at most 200 characters/)
    expect(user.role).toBe('user')
    expect(user.content).toContain('File name: genes.csv')
    expect(user.content).toContain('"columnNames":["gene_id","expression"]')
    expect(user.content).toContain('Offline description: CSV, 2 rows x 2 columns: gene_id (text), expression (number)')
    expect(user.content).toContain('BRCA1,0.5\nTP53,9.25')
    expect(JSON.stringify(request!.body)).not.toContain('sk-test-123')
  })

  it('sends no Authorization header without a key, and caps a long preview', async () => {
    const llm = await startLlm((_, res) => reply(res, 200, completion('A CSV of genes.')))
    await describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 5000 }, { ...INPUT, preview: 'p'.repeat(50_000) })
    expect(llm.seen[0]!.headers.authorization).toBeUndefined()
    const user: string = llm.seen[0]!.body.messages[1].content
    expect(user.length).toBeLessThan(12_000)
    expect(user).toContain('p'.repeat(3000))
  })

  it('cuts facts too large for the prompt', async () => {
    const columnFacts = Array.from({ length: 300 }, (_, i) => ({ name: `column_${i}`, type: 'text' as const, nulls: 0, samples: Array(5).fill('s'.repeat(80)) }))
    const facts = { ...PARSED.facts, columns: 300, columnNames: columnFacts.map((c) => c.name), columnFacts } as Parsed['facts']
    const llm = await startLlm((_, res) => reply(res, 200, completion('A wide table.')))
    await describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 5000 }, { ...INPUT, parsed: { ...PARSED, facts } })
    const user: string = llm.seen[0]!.body.messages[1].content
    expect(user.length).toBeLessThan(7_000)
    expect(user).toContain('...(cut)')
    expect(user).toContain('"columns":300')
    expect(user).toContain('Offline description: CSV, 2 rows x 300 columns')
  })

  it('accepts a base URL or the full chat-completions URL', async () => {
    const llm = await startLlm((_, res) => reply(res, 200, completion('ok')))
    await describeWithLlm({ url: `${llm.base}/v1/`, model: 'm', timeoutMs: 5000 }, INPUT)
    await describeWithLlm({ url: `${llm.base}/v1/chat/completions`, model: 'm', timeoutMs: 5000 }, INPUT)
    expect(llm.seen.map((s) => s.url)).toEqual(['/v1/chat/completions', '/v1/chat/completions'])
    expect(toChatCompletionsUrl('https://api.openai.com/v1').href).toBe('https://api.openai.com/v1/chat/completions')
    expect(toChatCompletionsUrl('http://localhost:11434/v1/chat/completions').href).toBe('http://localhost:11434/v1/chat/completions')
  })

  it('throws with the status and the start of the body on an HTTP error', async () => {
    const llm = await startLlm((_, res) => reply(res, 500, { error: { message: 'model overloaded' } }))
    await expect(describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 5000 }, INPUT)).rejects.toThrow(/HTTP 500: .*model overloaded/)
  })

  it('throws when the answer has no choices', async () => {
    const llm = await startLlm((_, res) => reply(res, 200, { choices: [] }))
    await expect(describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 5000 }, INPUT)).rejects.toThrow(/without a description/)
  })

  it('throws when the answer is not JSON', async () => {
    const llm = await startLlm((_, res) => reply(res, 200, '<html>gateway</html>'))
    await expect(describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 5000 }, INPUT)).rejects.toThrow(/not JSON: <html>gateway<\/html>/)
  })

  it('gives up on a slow server at the timeout', async () => {
    const llm = await startLlm((_, res) => setTimeout(() => reply(res, 200, completion('late')), 3000))
    const started = performance.now()
    await expect(describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 300 }, INPUT)).rejects.toThrow(/did not answer within 300 ms/)
    const took = performance.now() - started
    expect(took).toBeGreaterThanOrEqual(250)
    expect(took).toBeLessThan(1500)
  })

  it("stops when the caller's signal aborts", async () => {
    const llm = await startLlm(() => {})
    const caller = new AbortController()
    setTimeout(() => caller.abort(), 100)
    await expect(describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 10_000 }, INPUT, caller.signal)).rejects.toThrow(/was cancelled/)
  })

  it('cleans a quoted, labelled, multi-line answer to one line', async () => {
    const llm = await startLlm((_, res) => reply(res, 200, completion('  "Description: A table of\n  two genes\n\nwith expression values."  ')))
    expect(await describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 5000 }, INPUT)).toBe('A table of two genes with expression values.')
  })

  it('drops a reasoning block and caps a long answer at 300 characters', async () => {
    const llm = await startLlm((_, res) => reply(res, 200, completion(`<think>hmm</think>${'word '.repeat(200)}`)))
    const answer = await describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 5000 }, INPUT)
    expect(answer.startsWith('word word')).toBe(true)
    expect(answer.length).toBe(300)
    expect(answer.endsWith('...')).toBe(true)
  })

  it('keeps quotes that do not wrap the whole answer', async () => {
    const llm = await startLlm((_, res) => reply(res, 200, completion('"Q1" and "Q2" are the sheets of "Budget"')))
    expect(await describeWithLlm({ url: llm.base, model: 'm', timeoutMs: 5000 }, INPUT)).toBe('"Q1" and "Q2" are the sheets of "Budget"')
  })
})
