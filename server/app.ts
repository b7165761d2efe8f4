/**
 * buildApp(deps): the request listener. Never listens, never reads env.
 *
 * tus requests go straight to the tus handler, without Express in the way:
 * mounting the tus handler inside Express measured 15-25 % slower on bodies.
 * Everything else (REST, health, the page) is an Express app.
 */
import type { RequestListener } from 'node:http'
import path from 'node:path'
import express from 'express'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Config } from './config.ts'
import { applyCors } from './cors.ts'
import type { Database } from './db/schema.ts'
import { errorHandler, notFound } from './http/error-handler.ts'
import { filesRouter, sendContent, signedContent } from './http/files.router.ts'
import { createDownloadLinks } from './http/download-link.ts'
import { healthRouter } from './http/health.router.ts'
import type { Metrics } from './metrics.ts'
import type { Storage } from './storage/storage.ts'
import type { UploadHooks } from './tus/context.ts'
import { BodyGate } from './tus/body-gate.ts'
import { createTusHandler, tusPathTarget } from './tus/handler.ts'
import type { UploadLocker } from './locks/upload-locker.ts'
import type { FileEvents } from './pipeline/file-events.ts'
import type { Authenticate } from './auth/authenticate.ts'
import type { RateLimiter } from './uploads/rate-limit.ts'
import type { ClientConfig } from './uploads/upload-rules.ts'
import { configRouter } from './http/config.router.ts'
import { pageRouter } from './http/page.router.ts'
import { receiveForm } from './http/form-upload.ts'
import { principalOf } from './auth/authenticate.ts'
import { AppError } from './errors.ts'
import { presignedRouter } from './http/presigned.ts'
import { presignedMultipartRouter } from './http/presigned-multipart.ts'

export type AppDeps = {
  db: Kysely<Database>
  storage: Storage
  locker: UploadLocker
  hooks: UploadHooks
  log: Logger
  metrics: Metrics
  events: FileEvents
  authenticate: Authenticate
  rateLimit?: RateLimiter
  /** What GET /api/config answers. */
  clientConfig: ClientConfig
  /** The built page (Vite's output); default dist/web. */
  webDir?: string
  config: Pick<Config, 'maxUploadSize' | 'uploadExpiryMs' | 'presignExpirySeconds' | 'downloadLinks' | 'corsOrigins' | 'trustProxy'>
}

const WEB_DIR = path.resolve(import.meta.dirname, '..', 'dist', 'web')

export function buildApp(deps: AppDeps): RequestListener {
  const { config, log } = deps
  const tus = createTusHandler(
    { authenticate: deps.authenticate, rateLimit: deps.rateLimit, storage: deps.storage, locker: deps.locker, hooks: deps.hooks, maxUploadSize: config.maxUploadSize, expiryMs: config.uploadExpiryMs, bodyGate: new BodyGate(32), log },
    { cors: config.corsOrigins, trustProxy: config.trustProxy },
  )

  const api = express()
  api.disable('x-powered-by')
  api.set('trust proxy', config.trustProxy)
  api.use((req, res, next) => {
    applyCors(req, res, config.corsOrigins)
    if (req.method === 'OPTIONS') {
      res.status(204).end()
      return
    }
    next()
  })
  api.use(healthRouter(deps))
  api.use(configRouter(deps.clientConfig))
  api.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType)
    res.send(await deps.metrics.registry.metrics())
  })
  // Who is calling, before any file route: the routes act on the caller's files only.
  const authenticated: express.RequestHandler = (req, _res, next) => {
    deps.authenticate(req).then(() => next(), next)
  }
  // Two more ways in beside tus, ending in the same row and job: a form post, and presigned PUTs straight to S3.
  const formDeps = { ...deps, maxUploadSize: config.maxUploadSize, uploadExpiryMs: config.uploadExpiryMs }
  // Creations count against UPLOAD_RATE_LIMIT whichever way they come.
  const admitted: express.RequestHandler = (req, _res, next) => {
    const verdict = deps.rateLimit?.(principalOf(req).userId)
    if (verdict && !verdict.ok) next(new AppError('ERR_RATE_LIMITED', { headers: { 'Retry-After': String(verdict.retryAfterSeconds) } }))
    else next()
  }
  const files = { ...deps, links: createDownloadLinks(config.downloadLinks) }
  // A signed link stands in for the credential on one file's bytes; without one, the caller's credentials decide.
  api.get('/api/files/:id/content', signedContent(files))
  api.post('/api/files/upload-url', authenticated, admitted)
  api.post('/api/files', authenticated, admitted, async (req, res) => {
    await receiveForm(formDeps, req, res)
  })
  api.post('/api/files/multipart', authenticated, admitted)
  const presign = { ...deps, maxUploadSize: config.maxUploadSize, presignExpirySeconds: config.presignExpirySeconds, uploadExpiryMs: config.uploadExpiryMs }
  api.use('/api/files', authenticated, presignedRouter(presign), presignedMultipartRouter(presign))
  api.use('/api/files', authenticated, filesRouter(files))
  // tusd serves a finished upload at its upload URL; so do we.
  api.get('/files/:id', authenticated, async (req, res) => {
    await sendContent(files, req, res, String(req.params.id))
  })
  api.use(pageRouter(deps.webDir ?? WEB_DIR, log))
  api.use(notFound())
  api.use(errorHandler(log))

  return (req, res) => {
    const target = tusPathTarget(req.url)
    const override = req.headers['x-http-method-override']
    if (target !== undefined && (req.method !== 'GET' || override !== undefined)) {
      const answered = deps.metrics.tusRequestStarted(typeof override === 'string' ? override.toUpperCase() : (req.method ?? ''))
      res.once('close', () => answered(res.statusCode))
      tus(req, res, target)
      return
    }
    api(req, res)
  }
}
