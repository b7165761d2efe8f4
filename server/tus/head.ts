/** HEAD /files/:id: where to resume (tus core). Takes no lock: a resume check never waits behind a running PATCH. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Metadata } from '@tus/utils'
import { expiresAt, isFinished, loadUpload, type TusContext } from './context.ts'
import { httpDate } from './protocol.ts'
import { send } from './respond.ts'

export async function handleHead(ctx: TusContext, _req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  // Reading without the lock is safe with both stores: they only ever report
  // bytes already persisted (the file's size; completed S3 parts plus the .part
  // object), so the offset seen here can only be behind a running write, never ahead.
  const upload = await loadUpload(ctx, id)
  // "The Server MUST prevent the client and/or proxies from caching the response by adding the Cache-Control: no-store header."
  // "The Server MUST always include the Upload-Offset header in the response for a HEAD request, even if the offset is 0"
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'Upload-Offset': String(upload.offset) }
  // "If the size of the upload is known, the Server MUST include the Upload-Length header in the response."
  // "As long as the length of the upload is not known, the Server MUST set Upload-Defer-Length: 1 in all responses to HEAD requests."
  if (upload.size === undefined) headers['Upload-Defer-Length'] = '1'
  else headers['Upload-Length'] = String(upload.size)
  // "If an upload contains additional metadata, responses to HEAD requests MUST include the Upload-Metadata header and its value as specified by the Client during the creation."
  if (upload.metadata && Object.keys(upload.metadata).length > 0) headers['Upload-Metadata'] = Metadata.stringify(upload.metadata)
  if (isFinished(upload)) {
    // The last PATCH may have stored its bytes but died before the database heard of it: finish now (idempotent).
    await ctx.hooks.finished(id, upload.offset).catch((err: unknown) => ctx.log.warn({ err, uploadId: id }, 'upload.finish_retry_failed'))
  } else {
    headers['Upload-Expires'] = httpDate(expiresAt(ctx, upload))
  }
  send(res, 200, headers)
}
