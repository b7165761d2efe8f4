/**
 * The page's side of the REST API: the config, the caller's files, removal,
 * download, and the live stream of changes. Every request carries the
 * credential; a 401 anywhere calls `onUnauthorized` (the page asks again).
 */
import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { ClientConfig } from '../../server/uploads/upload-rules.ts'
import { authHeaders } from './credentials.ts'
import type { FileJson } from './file-json.ts'

export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** The message of an error answer: JSON `{error:{code,message}}` from the API, `CODE: message` text from tus. */
export function messageOf(status: number, body: string): { code: string; message: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }
    if (typeof parsed.error?.message === 'string') return { code: String(parsed.error.code ?? ''), message: parsed.error.message }
  } catch {
    // not JSON: tus text
  }
  const text = /^(ERR_[A-Z0-9_]+): (.+)$/s.exec(body.trim())
  if (text?.[1] && text[2]) return { code: text[1], message: text[2] }
  return { code: '', message: body.trim() || `the server answered ${status}` }
}

export type Api = ReturnType<typeof createApi>

export function createApi(opts: { credential: () => string | undefined; onUnauthorized: (message: string) => void }) {
  async function request(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(path, { ...init, headers: { ...authHeaders(opts.credential()), ...(init.headers as Record<string, string> | undefined) } })
    if (res.ok) return res
    const { code, message } = messageOf(res.status, await res.text())
    if (res.status === 401) opts.onUnauthorized(message)
    throw new ApiError(res.status, code, message)
  }

  return {
    async config(): Promise<ClientConfig> {
      return (await (await fetch('/api/config')).json()) as ClientConfig
    },
    /** Answers when the credential works (a one-file listing). */
    async check(): Promise<void> {
      await request('/api/files?limit=1')
    },
    async list(cursor?: string): Promise<{ files: FileJson[]; nextCursor: string | null }> {
      const query = new URLSearchParams({ limit: '50', ...(cursor ? { cursor } : {}) })
      return (await (await request(`/api/files?${query}`)).json()) as { files: FileJson[]; nextCursor: string | null }
    },
    async get(id: string): Promise<FileJson> {
      return (await (await request(`/api/files/${encodeURIComponent(id)}`)).json()) as FileJson
    },
    async remove(id: string): Promise<void> {
      await request(`/api/files/${encodeURIComponent(id)}`, { method: 'DELETE' })
    },
    /**
     * Saves the file with a plain link, streamed to disk by the browser. A link cannot carry a header, so
     * with a credential the page first asks for a short-lived signed link to this one file.
     */
    async download(file: FileJson): Promise<void> {
      let url = file.contentUrl
      if (opts.credential()) {
        const res = await request(`/api/files/${encodeURIComponent(file.id)}/download-url`, { method: 'POST' })
        url = ((await res.json()) as { url: string }).url
      }
      const a = document.createElement('a')
      a.download = file.filename
      a.href = url
      document.body.append(a)
      a.click()
      a.remove()
    },
    /**
     * Follows GET /api/files/events, calling `onFile` on every change, until `signal` aborts. Reconnects
     * with backoff when the stream ends or breaks, and calls `onConnected` each time it is (re)connected,
     * so the caller can reload what it may have missed.
     */
    async follow(onFile: (file: FileJson) => void, onConnected: (live: boolean) => void, signal: AbortSignal): Promise<void> {
      let delay = 1000
      while (!signal.aborted) {
        try {
          const res = await request('/api/files/events', { signal, headers: { Accept: 'text/event-stream' } })
          onConnected(true)
          delay = 1000
          const events = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())
          for await (const event of events) {
            if (event.event === 'file') onFile(JSON.parse(event.data) as FileJson)
          }
        } catch (error) {
          if (signal.aborted || (error instanceof ApiError && error.status === 401)) return
        }
        onConnected(false)
        await new Promise((resolve) => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, 30_000)
      }
    },
  }
}
