/** DELETE /files/:id (termination extension). */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AppError } from '../errors.ts'
import { loadUpload, type TusContext } from './context.ts'
import { send } from './respond.ts'

export async function handleDelete(ctx: TusContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  const gone = new AbortController()
  req.once('close', () => gone.abort())
  const lock = ctx.locker.newLock(id)
  // A running PATCH on this upload is asked to stop; its bytes are removed below.
  await lock.lock(gone.signal, () => {})
  try {
    try {
      await loadUpload(ctx, id)
    } catch (error) {
      // An expired upload still holding storage is removed all the same.
      if (!(error instanceof AppError && error.code === 'ERR_UPLOAD_GONE')) throw error
    }
    // "When receiving a DELETE request for an existing upload the Server SHOULD free associated resources and MUST respond with the 204 No Content status"
    await ctx.storage.remove(id)
    await ctx.hooks.terminated(id)
  } finally {
    await lock.unlock()
  }
  ctx.log.info({ uploadId: id }, 'upload.terminated')
  send(res, 204)
}
