/**
 * ALLOWED_TYPES: which files may be uploaded, by extension or MIME type
 * (`image/*` allowed), or `*` for everything. Checked at creation against the
 * name the client gives (its extension decides; without one, the declared
 * type) by upload-rules.ts. After the upload the parser process checks the
 * bytes against that claim, and a file whose bytes say otherwise fails as
 * `type_mismatch`.
 */
import mime from 'mime-types'
import type { TypeRules } from './upload-rules.ts'

/** The types the pipeline understands. */
export const DEFAULT_ALLOWED_TYPES = 'csv,tsv,xlsx,xls,json,md,txt,pdf,png,jpg,jpeg,webp,gif'

export function parseTypeRules(spec: string): TypeRules {
  const entries = spec.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean)
  if (entries.includes('*')) return { any: true }
  const extensions = new Set<string>()
  const mediaTypes = new Set<string>()
  for (const entry of entries) {
    if (entry.includes('/')) {
      mediaTypes.add(entry)
      // The extension decides (upload-rules.ts), so a MIME entry brings its extensions: `image/*` admits photo.png.
      const [family, subtype] = entry.split('/')
      for (const [ext, type] of Object.entries(mime.types)) {
        if (type === entry || (subtype === '*' && type.startsWith(`${family}/`))) extensions.add(ext)
      }
      continue
    }
    const ext = entry.replace(/^\./, '')
    extensions.add(ext)
    // An extension brings its own MIME type, so a file declared only by type is judged alike.
    const type = mime.lookup(ext)
    if (type) mediaTypes.add(type)
  }
  if (extensions.has('md')) mediaTypes.add('text/markdown')
  if (extensions.has('csv')) mediaTypes.add('application/vnd.ms-excel') // what Windows browsers declare for .csv
  return { any: false, extensions: [...extensions], mediaTypes: [...mediaTypes], label: entries.join(', ') }
}

