/**
 * The parent of every parser process's private temp directory:
 * `<dir>/parse-<pid>-<random>`, one per running server, so instances sharing
 * DATA_DIR never wipe each other's. Left over by a process that died, it is removed by
 * the next one to start.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import path from 'node:path'

/** Roots made by servers running in this process (tests run several). */
const ROOTS_MADE_HERE = new Set<string>()

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
    // This process's own pid is stale too unless the root is one it made (a container restarts as pid 1 every time).
    const stale = pid && (pid === process.pid ? !ROOTS_MADE_HERE.has(path.join(dir, name)) : !isAlive(pid))
    if (stale) await rm(path.join(dir, name), { recursive: true, force: true })
  }
  const root = await mkdtemp(path.join(dir, `parse-${process.pid}-`))
  ROOTS_MADE_HERE.add(root)
  return {
    path: root,
    async remove() {
      ROOTS_MADE_HERE.delete(root)
      await rm(root, { recursive: true, force: true })
    },
  }
}
