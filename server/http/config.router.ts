/** GET /api/config: the rules a client needs before it uploads (open to all: it holds no secret). */
import { Router } from 'express'
import type { Config } from '../config.ts'
import type { ClientConfig, TypeRules } from '../uploads/upload-rules.ts'

/** Bytes per PATCH on local disk, where any size works: small enough for a phone's link, large enough to keep requests few. */
const DISK_CHUNK_SIZE = 8 * 1024 * 1024

export type ClientConfigSource = Pick<Config, 'maxUploadSize' | 'uploadExpiryMs' | 'auth' | 'limits' | 's3'>

export function clientConfigOf(config: ClientConfigSource, allowedTypes: TypeRules): ClientConfig {
  const required = config.auth.mode === 'required'
  return {
    tus: { endpoint: '/files', chunkSize: config.s3?.partSize ?? DISK_CHUNK_SIZE },
    maxUploadSize: config.maxUploadSize,
    allowedTypes,
    uploadExpirySeconds: Math.round(config.uploadExpiryMs / 1000),
    quotaBytes: config.limits.userQuotaBytes ?? null,
    formPost: true,
    presignedUploads: config.s3 !== undefined,
    auth: { required, schemes: required ? [...(config.auth.jwt ? (['bearer'] as const) : []), 'apiKey'] : [] },
  }
}

export function configRouter(client: ClientConfig): Router {
  const router = Router()
  const body = JSON.stringify(client)
  router.get('/api/config', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache')
    res.type('application/json').send(body)
  })
  return router
}
