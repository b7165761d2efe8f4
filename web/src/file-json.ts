/** A file record as the API sends it (server/http/file-json.ts), as the page reads it. */
import type { FileJson as ServerFileJson } from '../../server/http/file-json.ts'

/** Dates are ISO strings on the wire; the metadata is the parser's facts, read field by field. */
export type FileJson = Omit<ServerFileJson, 'metadata' | 'error'> & {
  metadata: Record<string, unknown> | null
  error: { code: string; message: string } | null
}
