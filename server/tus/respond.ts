import type { ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { AppError, ERRORS } from '../errors.ts'

export function send(res: ServerResponse, status: number, headers: Record<string, string> = {}, body = ''): void {
  if (res.headersSent) {
    res.end()
    return
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  if (body) {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
    res.setHeader('Content-Length', Buffer.byteLength(body))
  } else if (status !== 204 && status !== 304) {
    res.setHeader('Content-Length', '0')
  }
  res.writeHead(status)
  res.end(body)
}

/**
 * tus errors are answered as `ERR_CODE: message` text. Unknown errors are
 * logged with their stack and answered with a 500 that leaks nothing. When the
 * request body was not read, the connection is closed after the answer rather
 * than draining gigabytes nobody wants.
 */
export function sendError(res: ServerResponse, error: unknown, log: Logger, options: { bodyUnread?: boolean } = {}): void {
  const known = error instanceof AppError ? error : undefined
  if (!known) log.error({ err: error }, 'tus.request_failed')
  const code = known?.code ?? 'ERR_INTERNAL'
  const status = known?.status ?? ERRORS.ERR_INTERNAL.status
  const message = known?.message ?? ERRORS.ERR_INTERNAL.message
  if (options.bodyUnread) res.setHeader('Connection', 'close')
  send(res, status, known?.headers ?? {}, `${code}: ${message}\n`)
}
