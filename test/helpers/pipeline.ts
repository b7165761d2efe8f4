/** Helpers for the pipeline suites: waiting for a file to settle, a chat-completions server, temp-dir checks. */
import { readdir } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { expect } from 'vitest'

export type FileBody = {
  id: string
  status: string
  description: string | null
  metadata: Record<string, unknown>
  error: { code: string; message: string } | null
  uploadedAt: string | null
  processingStartedAt: string | null
  processedAt: string | null
  size: number | null
}

/** Long-polls GET /api/files/:id?wait= until the file is ready or failed (fails the test after `timeoutMs`). */
export async function settled(base: string, id: string, timeoutMs = 60_000): Promise<FileBody> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await fetch(`${base}/api/files/${id}?wait=${Math.min(30, Math.ceil((deadline - Date.now()) / 1000))}`)
    expect(res.status).toBe(200)
    const file = (await res.json()) as FileBody
    if (file.status === 'ready' || file.status === 'failed') return file
    if (Date.now() > deadline) throw new Error(`file ${id} still ${file.status} after ${timeoutMs} ms`)
  }
}

/**
 * Files left in the parser processes' temp directories under DATA_DIR/tmp
 * (`parse-<server>/parse-<process>/...`). A spare process waiting for its
 * file has an empty directory; that is not a leftover.
 */
export async function parserTempFiles(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, 'tmp')
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter((e) => !e.isDirectory() && path.relative(root, e.parentPath).startsWith('parse-')).map((e) => path.join(path.relative(root, e.parentPath), e.name))
}

export type ChatServer = { url: string; requests: { headers: http.IncomingHttpHeaders; body: any }[]; close(): Promise<void> }

/** A local server that speaks the OpenAI chat-completions API, answering with `reply` (or failing as told). */
export async function startChatServer(reply: (body: any) => { status: number; body: unknown; delayMs?: number }): Promise<ChatServer> {
  const requests: ChatServer['requests'] = []
  const server = http.createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8').on('data', (d: string) => {
      raw += d
    })
    req.on('end', () => {
      const body = JSON.parse(raw || '{}')
      requests.push({ headers: req.headers, body })
      const answer = reply(body)
      setTimeout(() => {
        res.writeHead(answer.status, { 'Content-Type': 'application/json' })
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body))
      }, answer.delayMs ?? 0)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function chatAnswer(content: string) {
  return { id: 'chatcmpl-test', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }
}
