/**
 * The bundled Uppy page: Vite's build of web/ (dist/web), served at `/`.
 * Hashed assets are cached for a year; index.html is revalidated on every
 * visit, so a rebuilt page reaches browsers at once. When the page has not
 * been built (the server started without `npm start`), `/` says how to build it.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import express, { Router } from 'express'
import type { Logger } from 'pino'

/**
 * The page talks to this origin only. Styles allow inline: Uppy's Dashboard
 * sets style attributes. Thumbnails are blob: URLs.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ')

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>filedock</title>
<p>The upload page is not built yet. Run <code>npm run build</code>, or start the server with <code>npm start</code>, which builds it when needed.</p>
<p>The tus endpoint (<code>/files</code>) and the API (<code>/api/files</code>) work without it.</p>`

export function pageRouter(webDir: string, log: Logger): Router {
  const router = Router()
  const index = path.join(webDir, 'index.html')
  let warned = false
  router.use(
    express.static(webDir, {
      index: 'index.html',
      dotfiles: 'ignore',
      setHeaders(res, file) {
        res.setHeader('X-Content-Type-Options', 'nosniff')
        if (file.startsWith(path.join(webDir, 'assets') + path.sep)) {
          res.setHeader('Cache-Control', 'public, max-age=31536000, immutable')
          return
        }
        res.setHeader('Cache-Control', 'no-cache')
        if (file.endsWith('.html')) {
          res.setHeader('Content-Security-Policy', PAGE_CSP)
          res.setHeader('Referrer-Policy', 'no-referrer')
        }
      },
    }),
  )
  router.get('/', (_req, res, next) => {
    if (existsSync(index)) return next()
    if (!warned) {
      warned = true
      log.warn({ webDir }, 'page.not_built')
    }
    res.status(503).type('html').setHeader('Cache-Control', 'no-store').send(NOT_BUILT)
  })
  return router
}
