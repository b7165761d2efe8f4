/** The REST API's one error handler: { error: { code, message } }; unknown errors are logged and answered with a bare 500. */
import type { ErrorRequestHandler, RequestHandler } from 'express'
import type { Logger } from 'pino'
import { AppError, ERRORS } from '../errors.ts'

export function notFound(): RequestHandler {
  return (_req, _res, next) => next(new AppError('ERR_NOT_FOUND'))
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let known = error instanceof AppError ? error : undefined
    // body-parser and friends throw http-errors with a 4xx status: a client mistake, not ours.
    const status = (error as { status?: unknown } | null)?.status
    if (!known && typeof status === 'number' && status >= 400 && status < 500) {
      const { type, limit } = error as { type?: unknown; limit?: unknown }
      known =
        type === 'entity.too.large'
          ? new AppError('ERR_BODY_TOO_LARGE', { message: `the request body is larger than the ${limit} bytes this endpoint takes` })
          : new AppError('ERR_BAD_REQUEST', { message: (error as Error).message })
    }
    if (!known) log.error({ err: error, method: req.method, url: req.originalUrl }, 'http.request_failed')
    if (res.headersSent) {
      res.destroy()
      return
    }
    const code = known?.code ?? 'ERR_INTERNAL'
    for (const [name, value] of Object.entries(known?.headers ?? {})) res.setHeader(name, value)
    res.status(known?.status ?? 500).json({ error: { code, message: known?.message ?? ERRORS.ERR_INTERNAL.message } })
  }
}
