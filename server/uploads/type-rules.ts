/**
 * ALLOWED_TYPES: which files may be uploaded, by extension or MIME type
 * (`image/*` allowed), or `*` for everything. Checked at creation against the
 * name the client gives (its extension decides; without one, the declared
 * type). After the upload the parser process checks the bytes against that
 * claim, and a file whose bytes say otherwise fails as `type_mismatch`.
 */
import mime from 'mime-types'
import { extensionOf } from '../pipeline/media-types.ts'

/** The types the pipeline understands. */
export const DEFAULT_ALLOWED_TYPES = 'csv,tsv,xlsx,xls,json,md,txt,pdf,png,jpg,jpeg,webp,gif'

export type TypeRules = { any: true } | { any: false; extensions: ReadonlySet<string>; mediaTypes: ReadonlySet<string>; label: string }

export function parseTypeRules(spec: string): TypeRules {
  const entries = spec.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean)
  if (entries.includes('*')) return { any: true }
  const extensions = new Set<string>()
  const mediaTypes = new Set<string>()
  for (const entry of entries) {
    if (entry.includes('/')) {
      mediaTypes.add(entry)
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
  return { any: false, extensions, mediaTypes, label: entries.join(', ') }
}


function mediaTypeAllowed(rules: Extract<TypeRules, { any: false }>, declared: string): boolean {
  const type = declared.split(';')[0]?.trim().toLowerCase() ?? ''
  return rules.mediaTypes.has(type) || rules.mediaTypes.has(`${type.split('/')[0]}/*`)
}

/** Why a file named `filename` and declared as `declaredType` is refused, or undefined when it is allowed. */
export function refusalOf(rules: TypeRules, filename: string, declaredType: string | undefined): string | undefined {
  if (rules.any) return undefined
  const ext = extensionOf(filename)
  if (ext) return rules.extensions.has(ext) ? undefined : `files of type .${ext} are not accepted here (allowed: ${rules.label})`
  const declared = declaredType?.trim() ?? ''
  if (declared && declared !== 'application/octet-stream' && mediaTypeAllowed(rules, declared)) return undefined
  return `the file has no extension${declared ? ` and its declared type ${declared} is not accepted` : ' and no declared type'} (allowed: ${rules.label})`
}
