/**
 * Makes the README's screenshot of the page (web/docs/page.png): a throwaway
 * server, Debian's Chromium, a few real files in every state the list shows.
 *
 *   node scripts/node.mjs scripts/screenshot-page.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PDFDocument, StandardFonts } from 'pdf-lib'
import pino from 'pino'
import { chromium } from 'playwright-core'
import sharp from 'sharp'
import { loadConfig } from '../server/config.ts'
import { startServer } from '../server/start.ts'
import { ensureWebBuilt } from './build-web.ts'

const OUT = path.resolve(import.meta.dirname, '..', 'web', 'docs', 'page.png')

await ensureWebBuilt()
const dir = await mkdtemp(path.join(os.tmpdir(), 'filedock-shot-'))
const server = await startServer(loadConfig({ DATA_DIR: path.join(dir, 'data'), PORT: '0', LOG_LEVEL: 'silent' }), pino({ level: 'silent' }))
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] })
try {
  const rows = ['region,quarter,revenue,units,closed_on']
  for (let i = 0; i < 4800; i++) rows.push(`${['north', 'south', 'east', 'west'][i % 4]},Q${(i % 4) + 1},${(1000 + ((i * 7919) % 90_000) / 10).toFixed(2)},${(i * 31) % 400},2026-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`)
  const pdf = await PDFDocument.create()
  pdf.setTitle('Quarterly report')
  const font = await pdf.embedFont(StandardFonts.Helvetica)
  for (let p = 1; p <= 12; p++) pdf.addPage().drawText(`Quarterly report, page ${p}`, { x: 50, y: 700, font, size: 18 })
  const files: Record<string, Uint8Array> = {
    'sales-2026.csv': Buffer.from(`${rows.join('\n')}\n`),
    'quarterly-report.pdf': await pdf.save(),
    'site-photo.png': await sharp({ create: { width: 1600, height: 900, channels: 3, background: '#3a7bd5' } }).png().toBuffer(),
    'notes.md': Buffer.from('# Launch notes\n\n## Goals\n\nShip the uploader.\n\n## Risks\n\nFlaky mobile links.\n'),
    'export.json': Buffer.from('{"orders": [1, 2, '),
  }
  const paths = await Promise.all(
    Object.entries(files).map(async ([name, data]) => {
      const file = path.join(dir, name)
      await writeFile(file, data)
      return file
    }),
  )
  const big = path.join(dir, 'survey-responses.csv')
  await writeFile(big, Buffer.alloc(40 * 1024 * 1024, 'yes,no,maybe,2026-05-01\n'))

  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 }, deviceScaleFactor: 1 })
  await page.goto(server.url)
  const input = page.locator('input.uppy-Dashboard-input[type=file]').first()
  await input.setInputFiles(paths)
  await page.waitForFunction(() => document.querySelectorAll('#file-list .status-ready, #file-list .status-failed').length === 5, undefined, { timeout: 60_000 })
  // "Done" clears the finished ones from the dashboard (the list keeps them); then one upload caught in the middle, paused.
  await page.getByRole('button', { name: 'Done' }).click()
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 6 * 1024 * 1024 })
  await input.setInputFiles([big])
  await page.waitForFunction(() => /(\d+)%/.test(document.querySelector('#file-list li:first-child .status')?.textContent ?? '') && Number(/(\d+)%/.exec(document.querySelector('#file-list li:first-child .status')!.textContent!)![1]) >= 40, undefined, { timeout: 60_000 })
  await page.getByRole('button', { name: 'Pause upload' }).first().click()
  await page.waitForTimeout(500)
  await mkdir(path.dirname(OUT), { recursive: true })
  await page.screenshot({ path: OUT, fullPage: true })
  process.stderr.write(`wrote ${path.relative(process.cwd(), OUT)}\n`)
} finally {
  await browser.close()
  await server.close()
  await rm(dir, { recursive: true, force: true })
}
