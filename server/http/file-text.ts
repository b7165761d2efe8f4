/**
 * GET /api/files/:id/text: the extracted text of a ready file, a page of
 * sections at a time (PDF pages, sheets, blocks of CSV rows, stretches of a
 * text file). JSON by default; `?format=plain` gives text/plain with a
 * heading per section, for a human or an agent reading it straight.
 */
import type { Request, Response } from 'express'
import type { Kysely } from 'kysely'
import type { FileRecord } from '../db/file.repository.ts'
import * as fileText from '../db/file-text.repository.ts'
import type { Database } from '../db/schema.ts'
import { AppError } from '../errors.ts'

const DEFAULT_SECTIONS = 20
const MAX_SECTIONS = 200
/** A page stops growing past this many characters (it always holds at least one section). */
const PAGE_CHARACTERS = 1024 * 1024

function intParam(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new AppError('ERR_BAD_REQUEST', { message: `${name} must be an integer from ${min} to ${max}` })
  return n
}

export async function sendFileText(db: Kysely<Database>, file: FileRecord, req: Request, res: Response): Promise<void> {
  if (file.status !== 'ready') {
    throw new AppError('ERR_FILE_NOT_READY', { message: `the file is ${file.status}; its text is served once it is ready${file.error ? ` (it failed: ${file.error.message})` : ''}` })
  }
  const from = intParam(req.query.cursor, 'cursor', 0, 0, 2 ** 31 - 1)
  const limit = intParam(req.query.limit, 'limit', DEFAULT_SECTIONS, 1, MAX_SECTIONS)
  const format = req.query.format ?? 'json'
  if (format !== 'json' && format !== 'plain') throw new AppError('ERR_BAD_REQUEST', { message: 'format must be json or plain' })

  const rows = await fileText.listFileText(db, file.id, from, limit + 1)
  const page: typeof rows = []
  let characters = 0
  for (const section of rows.slice(0, limit)) {
    if (page.length > 0 && characters + section.text.length > PAGE_CHARACTERS) break
    page.push(section)
    characters += section.text.length
  }
  const last = page.at(-1)
  const nextCursor = last && rows.length > page.length ? String(last.index + 1) : null
  const text = file.metadata.text as { sections?: number; truncated?: boolean } | undefined
  if (nextCursor) res.setHeader('Link', `</api/files/${file.id}/text?cursor=${nextCursor}&limit=${limit}${format === 'plain' ? '&format=plain' : ''}>; rel="next"`)
  if (format === 'plain') {
    res.type('text/plain; charset=utf-8').send(page.map((s) => `## ${s.title}\n\n${s.text}\n`).join('\n'))
    return
  }
  res.json({ fileId: file.id, sections: page, totalSections: text?.sections ?? null, truncated: text?.truncated ?? false, nextCursor })
}
