/** A file record as the API sends it (server/http/file-json.ts), as the page reads it. */
import type { FileJson as ServerFileJson } from '../../server/http/file-json.ts'

/** Dates are ISO strings on the wire; the metadata is the parser's facts, read field by field. */
export type FileJson = Omit<ServerFileJson, 'metadata' | 'error'> & {
  metadata: Record<string, unknown> | null
  error: { code: string; message: string } | null
}

/**
 * Whether `a` comes before `b` in the server's listing: newest first on
 * (createdAt, id). createdAt is stored to the millisecond, as the JSON gives
 * it, and ids are lowercase UUIDs, which compare as text as Postgres compares them.
 */
export function listedBefore(a: Pick<FileJson, 'createdAt' | 'id'>, b: Pick<FileJson, 'createdAt' | 'id'>): boolean {
  const at = Date.parse(a.createdAt)
  const bt = Date.parse(b.createdAt)
  return at === bt ? a.id > b.id : at > bt
}
