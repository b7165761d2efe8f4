/** Once before every suite: the page is built (when stale), so no two test workers build it at the same time. */
import { ensureWebBuilt } from '../scripts/build-web.ts'

export default async function setup(): Promise<void> {
  await ensureWebBuilt()
}
