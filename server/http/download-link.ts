/**
 * Short-lived signed download links: GET /api/files/:id/content?expires=&signature=
 * serves the file without a credential header, so a browser can save a large
 * file with a plain link (streamed to disk) where a header would force it
 * through fetch and memory.
 *
 * The signature is HMAC-SHA256 over `id.owner.expires` with the server's key:
 * it is good for one file of one owner until `expires` (Unix seconds). A link
 * to a file deleted meanwhile fails like a forged one (403), so links tell
 * nobody which ids exist. Instances that share DOWNLOAD_LINK_SECRET accept
 * each other's links; without it each instance draws its own key at start,
 * and its links die with it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { AppError } from '../errors.ts'

export type DownloadLinks = {
  /** The link's path and query, and when it stops working. */
  sign(file: { id: string; ownerId: string }, now?: number): { path: string; expiresAt: Date }
  /** Whether the query carries a signature at all (else the caller's credentials decide). */
  carries(query: Record<string, unknown>): boolean
  /** The file, if the query signs it (for its owner) and has not expired; else throws ERR_LINK_INVALID. */
  check<F extends { id: string; ownerId: string }>(file: F | undefined, query: Record<string, unknown>, now?: number): F
}

const EXPIRES = /^\d{1,12}$/
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/

export function createDownloadLinks(options: { secret?: string; expirySeconds: number }): DownloadLinks {
  const key = options.secret ? Buffer.from(options.secret, 'utf8') : randomBytes(32)
  const mac = (id: string, ownerId: string, expires: number) => createHmac('sha256', key).update(`${id}.${ownerId}.${expires}`).digest()

  return {
    sign(file, now = Date.now()) {
      const expires = Math.floor(now / 1000) + options.expirySeconds
      const signature = mac(file.id, file.ownerId, expires).toString('base64url')
      return { path: `/api/files/${file.id}/content?expires=${expires}&signature=${signature}`, expiresAt: new Date(expires * 1000) }
    },
    carries(query) {
      return query.signature !== undefined || query.expires !== undefined
    },
    check(file, query, now = Date.now()) {
      const { expires, signature } = query
      if (typeof expires !== 'string' || !EXPIRES.test(expires) || typeof signature !== 'string' || !SIGNATURE.test(signature)) {
        throw new AppError('ERR_LINK_INVALID', { message: 'a download link carries expires=<unix seconds>&signature=<43 characters>: ask POST /api/files/:id/download-url for one' })
      }
      // A file that is gone (or never was) fails like a forged link: the link must not tell which ids exist.
      if (file === undefined || !timingSafeEqual(Buffer.from(signature, 'base64url'), mac(file.id, file.ownerId, Number(expires)))) throw new AppError('ERR_LINK_INVALID')
      if (Number(expires) * 1000 <= now) throw new AppError('ERR_LINK_INVALID', { message: 'this download link has expired: ask POST /api/files/:id/download-url for a new one' })
      return file
    },
  }
}
