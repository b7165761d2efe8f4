/**
 * The tus endpoint: /files (creation) and /files/<id> (HEAD, PATCH, DELETE).
 *
 * @tus/server handles creation (POST). HEAD, PATCH and DELETE are ours, on
 * the same store and the same locks, because the library falls short of the
 * spec there (409 without the current offset, no Upload-Expires on HEAD, 500
 * for a store error it reads as "gone", lock polling on HEAD) and because its
 * body path runs every chunk through web streams.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { applyCors, type CorsPolicy } from '../cors.ts'
import { AppError } from '../errors.ts'
import { isUploadId, type TusContext } from './context.ts'
import { createCreationHandler } from './create.ts'
import { handleHead } from './head.ts'
import { handleOptions } from './options.ts'
import { handlePatch } from './patch.ts'
import { TUS_VERSION } from './protocol.ts'
import { sendError } from './respond.ts'
import { handleDelete } from './terminate.ts'

/** `target` is what tusPathTarget found in the URL: '' for /files, else the upload id. */
export type TusHandler = (req: IncomingMessage, res: ServerResponse, target: string) => void

/** '' for the collection (/files), the id for /files/<id>, undefined for anything else. */
export function tusPathTarget(url: string | undefined): string | undefined {
  const path = (url ?? '').split('?', 1)[0] ?? ''
  if (path === '/files' || path === '/files/') return ''
  const match = /^\/files\/([^/]+)\/?$/.exec(path)
  return match?.[1]
}

const METHODS_ON_COLLECTION = 'POST, OPTIONS'
const METHODS_ON_UPLOAD = 'HEAD, PATCH, DELETE, OPTIONS, GET'

export function createTusHandler(ctx: TusContext, options: { cors: CorsPolicy; trustProxy: boolean }): TusHandler {
  const create = createCreationHandler(ctx, options)

  async function dispatch(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    if (req.method === 'OPTIONS') return handleOptions(ctx, res)
    // "The Tus-Resumable header MUST be included in every request and response except for OPTIONS requests."
    // "If the version specified by the Client is not supported by the Server, it MUST respond with the 412 Precondition Failed status and MUST include the Tus-Version header into the response."
    if (req.headers['tus-resumable'] !== TUS_VERSION) throw new AppError('ERR_TUS_VERSION', { headers: { 'Tus-Version': TUS_VERSION } })
    const principal = await ctx.authenticate(req)
    if (target === '') {
      if (req.method === 'POST') return create(req, res)
      throw new AppError('ERR_METHOD_NOT_ALLOWED', { headers: { Allow: METHODS_ON_COLLECTION } })
    }
    if (!isUploadId(target)) throw new AppError('ERR_UPLOAD_NOT_FOUND')
    // Someone else's upload answers exactly as one that does not exist, before any other check (a 415 or
    // 405 for one and a 404 for the other would confirm it exists). Every upload has its row before the
    // store holds anything, so an id without a row is not found either.
    const owner = await ctx.hooks.ownerOf(target)
    if (owner !== principal.userId) throw new AppError('ERR_UPLOAD_NOT_FOUND')
    switch (req.method) {
      case 'HEAD':
        return handleHead(ctx, req, res, target)
      case 'PATCH':
        return handlePatch(ctx, req, res, target)
      case 'DELETE':
        return handleDelete(ctx, req, res, target)
      default:
        throw new AppError('ERR_METHOD_NOT_ALLOWED', { headers: { Allow: METHODS_ON_UPLOAD } })
    }
  }

  return (req, res, target) => {
    // "The X-HTTP-Method-Override request header MUST be a string which MUST be interpreted as the request's method by the Server, if the header is presented."
    const override = req.headers['x-http-method-override']
    if (typeof override === 'string' && override !== '') req.method = override.trim().toUpperCase()
    applyCors(req, res, options.cors)
    res.setHeader('Tus-Resumable', TUS_VERSION)
    dispatch(req, res, target).catch((error: unknown) => {
      if (res.headersSent) {
        ctx.log.warn({ err: error }, 'tus.failed_after_headers')
        res.destroy()
        return
      }
      sendError(res, error, ctx.log, { bodyUnread: !req.complete })
    })
  }
}
