/**
 * Builds the page (web/) with Vite into dist/web.
 *
 *   node scripts/node.mjs scripts/build-web.ts             build now
 *   node scripts/node.mjs scripts/build-web.ts --if-stale  build only when the build is missing or stale (npm start)
 *
 * Stale means: one of the files the last build read changed. The build
 * records every file Vite read (sources, the shared server modules the page
 * imports, the Uppy packages in node_modules, public/ and the config) with a
 * hash of each in dist/web/.inputs.json. A new source file only matters once
 * an existing one imports it, and that one changed, so the list is enough.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
export const WEB_SRC = path.join(ROOT, 'web')
export const WEB_OUT = path.join(ROOT, 'dist', 'web')
const INPUTS = path.join(WEB_OUT, '.inputs.json')

type Inputs = Record<string, string>

async function hashFile(file: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex')
  } catch {
    return undefined
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}

/** Why the build in dist/web cannot be served as it is, or undefined when it is up to date. */
export async function staleReason(): Promise<string | undefined> {
  if (!existsSync(path.join(WEB_OUT, 'index.html'))) return 'not built yet'
  let recorded: Inputs
  try {
    recorded = JSON.parse(await readFile(INPUTS, 'utf8')) as Inputs
  } catch {
    return 'no record of what the last build read'
  }
  for (const [relative, hash] of Object.entries(recorded)) {
    if ((await hashFile(path.join(ROOT, relative))) !== hash) return `${relative} changed`
  }
  for (const file of await filesUnder(path.join(WEB_SRC, 'public'))) {
    if (!Object.hasOwn(recorded, path.relative(ROOT, file))) return `${path.relative(ROOT, file)} is new`
  }
  return undefined
}

/** Builds the page; returns the number of files it read. */
export async function buildWeb(): Promise<number> {
  const { build } = await import('vite')
  const read = new Set<string>()
  await build({
    configFile: path.join(WEB_SRC, 'vite.config.ts'),
    logLevel: 'warn',
    plugins: [
      {
        name: 'filedock:record-inputs',
        generateBundle() {
          for (const id of this.getModuleIds()) {
            const file = id.split('?')[0] ?? ''
            if (!id.startsWith('\0') && path.isAbsolute(file) && existsSync(file)) read.add(file)
          }
        },
      },
    ],
  })
  for (const file of [path.join(WEB_SRC, 'vite.config.ts'), path.join(WEB_SRC, 'index.html'), ...(await filesUnder(path.join(WEB_SRC, 'public')))]) read.add(file)
  const inputs: Inputs = {}
  for (const file of [...read].sort()) {
    const hash = await hashFile(file)
    if (hash) inputs[path.relative(ROOT, file)] = hash
  }
  await writeFile(INPUTS, `${JSON.stringify(inputs, null, 1)}\n`)
  return read.size
}

/** Builds when needed; a stale build is still served (with a warning) when Vite is not installed (npm ci --omit=dev). */
export async function ensureWebBuilt(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<void> {
  const reason = await staleReason()
  if (!reason) return
  if (!existsSync(path.join(ROOT, 'node_modules', 'vite'))) {
    if (existsSync(path.join(WEB_OUT, 'index.html'))) log(`filedock: the page build is stale (${reason}) but Vite is not installed; serving it as it is`)
    else log('filedock: the page is not built and Vite is not installed (npm ci without --omit=dev installs it); the API works without the page')
    return
  }
  const started = performance.now()
  const files = await buildWeb()
  log(`filedock: built the page (${reason}; ${files} files, ${Math.round(performance.now() - started)} ms)`)
}

if (import.meta.main) {
  if (process.argv.includes('--if-stale')) await ensureWebBuilt()
  else {
    const files = await buildWeb()
    process.stderr.write(`filedock: built the page into ${path.relative(process.cwd(), WEB_OUT)} (${files} files read)\n`)
  }
}
