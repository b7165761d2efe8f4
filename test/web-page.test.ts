/**
 * The bundled page in real Chromium against the real server on a port: pause
 * and resume, a reload mid-upload, a network cut, refusals in the server's
 * words, the credential prompt, and an upload the server no longer has.
 * Uploads are slowed with Chromium's own network throttling so that "mid-upload"
 * is a moment a test can reach. Each test saves a screenshot under
 * test-results/web/; a failing one saves the page's console log too.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { backends } from './helpers/backends.ts'
import { hasChromium, launchChromium, openPage, type PageSession } from './helpers/browser.ts'
import { startTestServer, type TestServer } from './helpers/server.ts'
import { metadataHeader, TUS, waitFor } from './helpers/tus.ts'
import { createApiKey } from '../server/auth/api-keys.ts'

const MiB = 1024 * 1024
// A fresh machine without Chromium skips these (npm test still passes); CI installs it, and there a missing browser fails.
const run = hasChromium || Boolean(process.env.CI)

/** A CSV of about `bytes` bytes (the pipeline describes it), the same bytes for the same arguments. */
function csvOf(bytes: number, seed = 1): Buffer {
  const lines = ['id,city,amount,day']
  let size = lines[0]!.length + 1
  for (let i = 0; size < bytes; i++) {
    const line = `${i},city-${(i * 7919 + seed) % 1000},${((i * 104_729 + seed) % 100_000) / 100},2026-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`
    lines.push(line)
    size += line.length + 1
  }
  return Buffer.from(`${lines.join('\n')}\n`)
}

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

type FileJson = { id: string; filename: string; status: string; size: number | null; description: string | null }

describe.runIf(run).each(backends())('the upload page on $name', (backend) => {
  let server: TestServer
  let browser: Browser
  let dir: string
  let session: PageSession | undefined

  beforeAll(async () => {
    server = await startTestServer(backend, { UPLOAD_RATE_LIMIT: '0' })
    browser = await launchChromium()
    dir = await mkdtemp(path.join(os.tmpdir(), 'filedock-web-'))
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  /** A page on the server; its screenshot is taken by `finish`, its console saved if the test fails. */
  async function open(name: string, url = server.url): Promise<PageSession> {
    const label = `${backend.name}-${name}`
    const opened = await openPage(browser, url)
    session = opened
    onTestFailed(async () => {
      await opened.saveConsole(label).catch(() => {})
      await opened.screenshot(`${label}-failed`).catch(() => {})
    })
    return opened
  }
  async function finish(name: string, opened: PageSession): Promise<void> {
    await opened.screenshot(`${backend.name}-${name}`)
    await opened.close()
    session = undefined
  }

  async function writeCsv(name: string, bytes: number, seed: number): Promise<{ file: string; data: Buffer }> {
    const data = csvOf(bytes, seed)
    const file = path.join(dir, name)
    await writeFile(file, data)
    return { file, data }
  }

  async function addFiles(opened: PageSession, files: string[]): Promise<void> {
    await opened.page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles(files)
  }

  /** The id of the row the page shows for `filename` once the server created its upload. */
  async function rowId(opened: PageSession, filename: string): Promise<string> {
    const row = opened.page.locator('#file-list li.file', { has: opened.page.locator('.file-name', { hasText: filename }) })
    await row.first().waitFor({ state: 'attached', timeout: 30_000 })
    return (await row.first().getAttribute('data-id')) as string
  }

  /** The upload's fraction done as the page's row shows it ("uploading · 42%"). */
  async function pageProgress(opened: PageSession, id: string): Promise<number> {
    const text = (await opened.page.locator(`#file-list li[data-id="${id}"] .status`).textContent()) ?? ''
    const m = /(\d+)%/.exec(text)
    return m ? Number(m[1]) / 100 : 0
  }

  async function serverOffset(id: string): Promise<number> {
    const res = await fetch(`${server.url}/files/${id}`, { method: 'HEAD', headers: TUS })
    return Number(res.headers.get('upload-offset'))
  }

  async function fileJson(id: string): Promise<FileJson> {
    return (await (await fetch(`${server.url}/api/files/${id}`)).json()) as FileJson
  }

  async function contentSha(id: string): Promise<string> {
    return sha(new Uint8Array(await (await fetch(`${server.url}/api/files/${id}/content`)).arrayBuffer()))
  }

  /**
   * Sends a CSV of about `bytes` from the page at `speed` bytes/s (Chromium's throttling) and waits until
   * the page shows more than `past` of it done: a moment that is surely mid-upload.
   */
  async function uploadUntil(opened: PageSession, filename: string, bytes: number, seed: number, past: number, speed = 3 * MiB): Promise<{ id: string; data: Buffer }> {
    const { file, data } = await writeCsv(filename, bytes, seed)
    await opened.throttle({ upload: speed })
    await addFiles(opened, [file])
    const id = await rowId(opened, filename)
    await waitFor(async () => ((await pageProgress(opened, id)) > past ? true : undefined), 60_000, `progress past ${past * 100} %`)
    return { id, data }
  }

  it('pauses past 10 %, the server offset stops, resumes, and the description shows when ready', async () => {
    const opened = await open('1-pause-resume')
    const { page } = opened
    const { id, data } = await uploadUntil(opened, 'thirty.csv', 30 * MiB, 1, 0.1, 4 * MiB)

    await page.getByRole('button', { name: 'Pause upload' }).first().click()
    // The aborted request's bytes land; from then on the offset must not move.
    await new Promise((r) => setTimeout(r, 1000))
    const paused = await serverOffset(id)
    await new Promise((r) => setTimeout(r, 2500))
    expect(await serverOffset(id)).toBe(paused)
    expect(paused).toBeGreaterThan(0)
    expect(paused).toBeLessThan(data.length)

    await page.getByRole('button', { name: 'Resume upload' }).first().click()
    const row = page.locator(`#file-list li[data-id="${id}"]`)
    await row.locator('.status-ready').waitFor({ timeout: 120_000 })
    const json = await fileJson(id)
    expect(json.status).toBe('ready')
    await expect.poll(() => row.locator('.file-description').textContent()).toBe(json.description)
    expect(json.description).toMatch(/^CSV, [\d,]+ rows x 4 columns/)
    expect(await row.locator('.file-facts').textContent()).toMatch(/rows × 4 columns/)
    expect(await contentSha(id)).toBe(sha(data))
    expect(opened.errors()).toEqual([])
    await finish('1-pause-resume', opened)
  })

  /** Every tus request the page makes: method, path and Upload-Offset. */
  function recordTus(opened: PageSession): { method: string; path: string; offset: number | undefined }[] {
    const seen: { method: string; path: string; offset: number | undefined }[] = []
    opened.page.on('request', (r) => {
      const url = new URL(r.url())
      if (url.pathname !== '/files' && !url.pathname.startsWith('/files/')) return
      const offset = r.headers()['upload-offset']
      seen.push({ method: r.method(), path: url.pathname, offset: offset === undefined ? undefined : Number(offset) })
    })
    return seen
  }

  it('continues from the server offset after a reload, as one upload', async () => {
    const opened = await open('2-reload')
    const { page } = opened
    const tus = recordTus(opened)
    // Past the first 8 MiB chunk: on S3 the server's offset moves a part at a time.
    const { id, data } = await uploadUntil(opened, 'reloaded.csv', 24 * MiB, 2, 0.4)
    const heads: number[] = []
    page.on('response', (r) => {
      if (r.request().method() === 'HEAD' && new URL(r.url()).pathname === `/files/${id}`) heads.push(Number(r.headers()['upload-offset']))
    })

    const before = tus.length
    await page.reload()
    // Golden Retriever brings the file back and the upload goes on by itself: first a HEAD, then PATCHes from there.
    await page.locator(`#file-list li[data-id="${id}"] .status-ready`).waitFor({ timeout: 120_000 })
    const after = tus.slice(before)
    expect(after.filter((r) => r.method === 'POST')).toEqual([])
    expect(after[0]).toMatchObject({ method: 'HEAD', path: `/files/${id}` })
    const firstPatch = after.find((r) => r.method === 'PATCH')
    expect(firstPatch?.path).toBe(`/files/${id}`)
    // From where the server said it was, not from 0.
    expect(heads[0]).toBeGreaterThan(0)
    expect(firstPatch?.offset).toBe(heads[0])
    expect(tus.filter((r) => r.method === 'POST')).toHaveLength(1)
    const list = (await (await fetch(`${server.url}/api/files?limit=200`)).json()) as { files: FileJson[] }
    expect(list.files.filter((f) => f.filename === 'reloaded.csv').map((f) => f.id)).toEqual([id])
    expect(await contentSha(id)).toBe(sha(data))
    // On S3 the PATCH cut by the reload can store its last bytes after the new HEAD answered: the next PATCH
    // then gets 409 (offset mismatch), asks again and goes on, as tus intends. Chromium logs that 409.
    expect(opened.errors(/status of 409/)).toEqual([])
    await finish('2-reload', opened)
  })

  it('rides out a cut network: retries and completes with the right bytes', async () => {
    const opened = await open('3-network-cut')
    const { page } = opened
    const failed: string[] = []
    page.on('requestfailed', (r) => failed.push(`${r.method()} ${new URL(r.url()).pathname}`))
    const { id, data } = await uploadUntil(opened, 'cut.csv', 20 * MiB, 3, 0.15)

    // Every tus request fails for four seconds, and the one in flight is cut.
    const isTus = (url: URL) => url.pathname === '/files' || url.pathname.startsWith('/files/')
    await page.route(isTus, (route) => route.abort('internetdisconnected'))
    await opened.throttle({ offline: true })
    await new Promise((r) => setTimeout(r, 4000))
    await opened.throttle({ upload: 3 * MiB })
    await page.unroute(isTus)

    await page.locator(`#file-list li[data-id="${id}"] .status-ready`).waitFor({ timeout: 120_000 })
    expect(failed.some((f) => f.startsWith('PATCH') || f.startsWith('HEAD'))).toBe(true)
    expect(await contentSha(id)).toBe(sha(data))
    // Chromium itself logs each refused request ("net::ERR_..."); nothing else may reach the console.
    expect(opened.errors(/net::ERR_/)).toEqual([])
    await finish('3-network-cut', opened)
  })

  it('refuses a file the server would refuse, in the server words, without sending it', async () => {
    const small = await startTestServer(backend, { MAX_UPLOAD_SIZE: String(MiB), UPLOAD_RATE_LIMIT: '0' })
    try {
      const opened = await open('4-refused', small.url)
      const { page } = opened
      const tus = recordTus(opened)
      /** What the server answers a tus creation for this name and size: the words after the code. */
      const serverWords = async (filename: string, size: number) => {
        const res = await fetch(`${small.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(size), 'Upload-Metadata': metadataHeader({ filename, filetype: 'application/octet-stream' }) } })
        expect(res.status).toBeGreaterThanOrEqual(400)
        return (await res.text()).trim().replace(/^ERR_[A-Z_]+: /, '')
      }
      const exe = path.join(dir, 'tool.exe')
      await writeFile(exe, 'MZ not really a program')
      const big = (await writeCsv('big.csv', 2 * MiB, 4)).file
      // The Dashboard renders its informer twice (above and below the status bar).
      const informer = async () => (await page.locator('.uppy-Informer').allTextContents()).join(' ')

      await addFiles(opened, [exe])
      await expect.poll(informer).toContain(await serverWords('tool.exe', 23))
      await addFiles(opened, [big])
      const words = await serverWords('big.csv', (await readFile(big)).length)
      expect(words).toMatch(/larger than the 1 MiB this server accepts/)
      await expect.poll(informer).toContain(words)

      await opened.screenshot(`${backend.name}-4-refused`)
      expect(tus.filter((r) => r.method === 'POST')).toEqual([])
      const list = (await (await fetch(`${small.url}/api/files`)).json()) as { files: FileJson[] }
      expect(list.files).toEqual([])
      expect(opened.errors()).toEqual([])
      await opened.close()
    } finally {
      await small.stop()
    }
  })

  it('asks for an API key when the server requires one, and uploads with it', async () => {
    const guarded = await startTestServer(backend, { AUTH: 'required', UPLOAD_RATE_LIMIT: '0' })
    try {
      const { key } = await createApiKey(guarded.db, { userId: 'alice' })
      const opened = await open('5-api-key', guarded.url)
      const { page } = opened
      const gate = page.locator('#auth-gate')
      await gate.waitFor({ state: 'visible' })
      await expect.poll(() => page.locator('#uploader').isHidden()).toBe(true)
      await page.getByLabel('Token or API key').fill('fdk_notakey_000')
      await page.getByRole('button', { name: 'Continue' }).click()
      await expect.poll(() => page.locator('#auth-error').textContent()).toMatch(/^The server refused it: /)

      await page.getByLabel('Token or API key').fill(key)
      await page.keyboard.press('Enter')
      await page.locator('#uploader').waitFor({ state: 'visible' })
      const { file, data } = await writeCsv('keyed.csv', 64 * 1024, 5)
      await addFiles(opened, [file])
      const id = await rowId(opened, 'keyed.csv')
      await page.locator(`#file-list li[data-id="${id}"] .status-ready`).waitFor({ timeout: 60_000 })
      // The bytes and the record belong to the key's user.
      const mine = await fetch(`${guarded.url}/api/files/${id}/content`, { headers: { 'X-API-Key': key } })
      expect(sha(new Uint8Array(await mine.arrayBuffer()))).toBe(sha(data))
      expect((await fetch(`${guarded.url}/api/files/${id}`)).status).toBe(401)
      // Download with a credential: a signed link the browser streams to disk, not a blob in the page's memory.
      const [saved] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download keyed.csv' }).click()])
      expect(saved.url()).toMatch(new RegExp(`/api/files/${id}/content\\?expires=\\d+&signature=`))
      expect(saved.suggestedFilename()).toBe('keyed.csv')
      expect(sha(await readFile(await saved.path()))).toBe(sha(data))

      // Kept for the session: a reload does not ask again; signing out does.
      await page.reload()
      await page.locator(`#file-list li[data-id="${id}"]`).waitFor()
      expect(await gate.isHidden()).toBe(true)
      await page.getByRole('button', { name: 'Sign out' }).click()
      await gate.waitFor({ state: 'visible' })
      // The refused guess is a 401 the page asked for on purpose; Chromium logs it.
      expect(opened.errors(/status of 401/)).toEqual([])
      await finish('5-api-key', opened)
    } finally {
      await guarded.stop()
    }
  })

  it('starts cleanly when the server no longer has a half-done upload', async () => {
    const opened = await open('6-upload-gone')
    const { page } = opened
    const { id: oldId, data } = await uploadUntil(opened, 'forgotten.csv', 12 * MiB, 6, 0.1)
    // tus requests fail from here; meanwhile the server forgets the upload (as expiry or a delete elsewhere would).
    // They fail until the reloaded page takes over, so the old page cannot start a new upload of its own.
    let blocked = true
    const isTus = (url: URL) => url.pathname === '/files' || url.pathname.startsWith('/files/')
    await page.route(isTus, (route) => (blocked ? route.abort('connectionreset') : route.continue()))
    expect((await fetch(`${server.url}/api/files/${oldId}`, { method: 'DELETE' })).status).toBe(204)

    await opened.throttle({})
    const committed = page.waitForEvent('framenavigated')
    const reloaded = page.reload()
    await committed
    blocked = false
    await reloaded
    const row = page.locator('#file-list li.file', { has: page.locator('.file-name', { hasText: 'forgotten.csv' }) })
    await row.locator('.status-ready').waitFor({ timeout: 120_000 })
    const newId = (await row.getAttribute('data-id')) as string
    expect(newId).not.toBe(oldId)
    expect((await fetch(`${server.url}/api/files/${oldId}`)).status).toBe(404)
    expect(await contentSha(newId)).toBe(sha(data))
    // The cut and the forgotten upload (404 to a PATCH in flight or to the HEAD after the reload): Chromium and Uppy log them.
    expect(opened.errors(/status of 404|response code: 404|net::ERR_/)).toEqual([])
    await finish('6-upload-gone', opened)
  })

  it('takes several files at once and lists them in the server order, each with its description', async () => {
    const names = ['one.csv', 'two.csv', 'three.csv', 'four.csv']
    const written = await Promise.all(names.map((name, i) => writeCsv(name, 2048 * (i + 1), 10 + i)))
    const opened = await open('8-several')
    const { page } = opened
    await addFiles(opened, written.map((w) => w.file))
    const ids = await Promise.all(names.map((name) => rowId(opened, name)))
    for (const id of ids) await page.locator(`#file-list li[data-id="${id}"] .status-ready`).waitFor({ timeout: 60_000 })
    const served = ((await (await fetch(`${server.url}/api/files?limit=200`)).json()) as { files: FileJson[] }).files
    const shown = await page.locator('#file-list li.file').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id))
    expect(shown).toEqual(served.map((f) => f.id))
    for (const [i, id] of ids.entries()) {
      expect(await page.locator(`#file-list li[data-id="${id}"] .file-description`).textContent()).toMatch(/^CSV, [\d,]+ rows x 4 columns/)
      expect(await contentSha(id)).toBe(sha(written[i]!.data))
    }
    expect(opened.errors()).toEqual([])
    await finish('8-several', opened)
  })

  it('fits a phone screen and works from the keyboard', async () => {
    const { file } = await writeCsv('pocket.csv', 4096, 7)
    const opened = await openPage(browser, server.url, { width: 375, height: 740 })
    session = opened
    onTestFailed(() => opened.saveConsole(`${backend.name}-7-phone`).catch(() => {}))
    const { page } = opened
    await addFiles(opened, [file])
    const id = await rowId(opened, 'pocket.csv')
    const row = page.locator(`#file-list li[data-id="${id}"]`)
    await row.locator('.status-ready').waitFor({ timeout: 60_000 })
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await opened.screenshot(`${backend.name}-7-phone`)

    // Tab reaches the row's buttons; Delete needs two presses, then the row and the file are gone.
    const remove = row.getByRole('button', { name: 'Delete pocket.csv' })
    for (let i = 0; i < 60 && !(await remove.evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab')
    expect(await remove.evaluate((b) => b === document.activeElement)).toBe(true)
    await page.keyboard.press('Enter')
    await expect.poll(() => remove.textContent()).toBe('Really delete?')
    await page.keyboard.press('Enter')
    await row.waitFor({ state: 'detached' })
    expect((await fetch(`${server.url}/api/files/${id}`)).status).toBe(404)
    expect(opened.errors()).toEqual([])
    await opened.close()
  })
})
