/**
 * Real Chromium for the page's tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a browser download). Each test gets a fresh context,
 * records the page's console, saves a screenshot under test-results/web/,
 * and on failure saves the console log beside it.
 */
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
const RESULTS = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'web')

/** The flags this machine needs: no sandbox as root, and no background traffic to Google's hosts (the network is closed). */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

export async function launchChromium(): Promise<Browser> {
  if (!hasChromium) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`)
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
}

export type PageSession = {
  context: BrowserContext
  page: Page
  cdp: CDPSession
  /** Every console message and page error, in order. */
  console: string[]
  /** Console errors and uncaught exceptions, minus the ones `allow` matches. */
  errors(allow?: RegExp): string[]
  /** Caps the upload speed (bytes/s), or lifts the cap (undefined); `offline` cuts every connection, in flight too. */
  throttle(opts: { upload?: number; offline?: boolean }): Promise<void>
  /** Saves a screenshot; on failure also saves the console (call from onTestFailed). */
  screenshot(name: string): Promise<void>
  saveConsole(name: string): Promise<void>
  close(): Promise<void>
}

export async function openPage(browser: Browser, url: string, viewport = { width: 1100, height: 900 }): Promise<PageSession> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const lines: string[] = []
  const errorLines: string[] = []
  page.on('console', (m) => {
    const line = `[${m.type()}] ${m.text()}`
    lines.push(line)
    if (m.type() === 'error') errorLines.push(line)
  })
  page.on('pageerror', (e) => {
    const line = `[pageerror] ${e.stack ?? e.message}`
    lines.push(line)
    errorLines.push(line)
  })
  page.on('requestfailed', (r) => lines.push(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`))
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await page.goto(url)
  return {
    context,
    page,
    cdp,
    console: lines,
    errors: (allow) => errorLines.filter((l) => !allow?.test(l)),
    async throttle({ upload, offline = false }) {
      await cdp.send('Network.emulateNetworkConditions', { offline, latency: 0, downloadThroughput: -1, uploadThroughput: upload ?? -1 })
    },
    async screenshot(name) {
      await mkdir(RESULTS, { recursive: true })
      await page.screenshot({ path: path.join(RESULTS, `${name}.png`), fullPage: true })
    },
    async saveConsole(name) {
      await mkdir(RESULTS, { recursive: true })
      await writeFile(path.join(RESULTS, `${name}.console.txt`), `${lines.join('\n')}\n`)
    },
    async close() {
      await context.close()
    },
  }
}
