/**
 * The parent of every parser process's private temp directory:
 * `<dir>/parse-<pid>-<random>`, one per running server, so instances sharing
 * DATA_DIR never wipe each other's. Left over by a process that died, it is removed by
 * the next one to start.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import path from 'node:path'

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function makeParseTmpRoot(dir: string): Promise<{ path: string; remove(): Promise<void> }> {
  await mkdir(dir, { recursive: true })
  for (const name of await readdir(dir)) {
    const pid = Number(/^parse-(\d+)-/.exec(name)?.[1])
    if (pid && pid !== process.pid && !isAlive(pid)) await rm(path.join(dir, name), { recursive: true, force: true })
  }
  const root = await mkdtemp(path.join(dir, `parse-${process.pid}-`))
  return { path: root, remove: () => rm(root, { recursive: true, force: true }) }
}
