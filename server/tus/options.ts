/** OPTIONS /files: what this server speaks (tus core). */
import type { ServerResponse } from 'node:http'
import type { TusContext } from './context.ts'
import { TUS_EXTENSIONS, TUS_VERSION } from './protocol.ts'
import { send } from './respond.ts'

export function handleOptions(ctx: TusContext, res: ServerResponse): void {
  // "A successful response indicated by the 204 No Content or 200 OK status MUST contain the Tus-Version header. It MAY include the Tus-Extension and Tus-Max-Size headers."
  send(res, 204, { 'Tus-Version': TUS_VERSION, 'Tus-Extension': TUS_EXTENSIONS, 'Tus-Max-Size': String(ctx.maxUploadSize) })
}
