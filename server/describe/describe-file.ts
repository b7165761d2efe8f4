/**
 * One line that says what a file is, built only from the parsed facts: no
 * network, no clock, same facts in, same words out. At most 200 characters;
 * lists (columns, sheets, keys) are cut to fit and say how many were left out.
 */
import type { ColumnFacts, FileKind, JsonFacts, Parsed, PdfFacts, SpreadsheetFacts, TableFacts, TextFacts } from '../pipeline/parsed.ts'
import { formatBytes } from '../pipeline/format-bytes.ts'
import { nameMediaType } from '../pipeline/media-types.ts'

// Re-exported: llm-describe.ts and the tests have always taken it from here.
export { formatBytes } from '../pipeline/format-bytes.ts'

const MAX_CHARS = 200
const numbers = new Intl.NumberFormat('en-US')

/** Describes a parsed file in one line, e.g. `CSV, 3 rows x 4 columns: name (text), age (integer), ...`. */
export function describeFile(parsed: Parsed, file: { filename?: string } = {}): string {
  const line = parsed.size === 0 ? describeEmpty(parsed.kind) : parsed.partial ? describePartial(parsed) : describeFacts(parsed, file)
  return clip(line, MAX_CHARS)
}

function describeFacts(parsed: Parsed, file: { filename?: string }): string {
  const label = nameFormat(parsed)
  const facts = parsed.facts
  switch (facts.kind) {
    case 'csv':
    case 'tsv': {
      const ragged = facts.raggedRows > 0 ? `; ${count(facts.raggedRows, 'ragged row')}` : ''
      const head = `${label}, ${sayTableSize(facts)}`
      return `${head}: ${summariseColumns(facts, MAX_CHARS - head.length - ragged.length - 2)}${ragged}`
    }
    case 'spreadsheet':
      return describeWorkbook(label, facts)
    case 'json':
    case 'ndjson':
      return describeJson(facts)
    case 'markdown':
    case 'text':
      return describeText(label, facts, firstLineOf(parsed))
    case 'pdf':
      return describePdf(label, facts, firstLineOf(parsed))
    case 'image':
      return `${label}, ${facts.width} x ${facts.height}${(facts.frames ?? 1) > 1 ? `, ${numbers.format(facts.frames!)} frames` : ''}`
    case 'other': {
      const extension = /\.([A-Za-z0-9]{1,10})$/.exec(file.filename ?? '')?.[1]
      const unknown = label === 'Binary file' && extension ? `Binary file (.${extension.toLowerCase()})` : label
      return `${unknown}, ${formatBytes(parsed.size)}`
    }
  }
}

const EMPTY_NOUNS: Record<FileKind, string> = {
  csv: 'CSV', tsv: 'TSV', spreadsheet: 'spreadsheet', json: 'JSON', ndjson: 'NDJSON',
  markdown: 'Markdown', text: 'text', pdf: 'PDF', image: 'image', other: '',
}

function describeEmpty(kind: FileKind): string {
  return `Empty ${EMPTY_NOUNS[kind] ? `${EMPTY_NOUNS[kind]} ` : ''}file (0 bytes)`
}

function describePartial(parsed: Parsed): string {
  const head = `${nameFormat(parsed)}, ${formatBytes(parsed.size)}, too large to read in full`
  const facts = parsed.facts
  if (facts.kind === 'spreadsheet' && facts.sheetNames.length > 0) {
    const noun = facts.sheetNames.length === 1 ? 'sheet' : 'sheets'
    return `${head}: ${noun} ${fitList(facts.sheetNames.map((name) => quote(name, 40)), MAX_CHARS - head.length - 10)}`
  }
  if (facts.kind === 'pdf' && facts.pages !== null) return `${head}: ${count(facts.pages, 'page')}`
  if ((facts.kind === 'json' || facts.kind === 'ndjson') && facts.records === null) return `${head}: a top-level ${facts.shape}`
  return head
}

/** How a person names the format; the parser's `format` when it is a name and not a MIME type. */
function nameFormat(parsed: Parsed): string {
  const facts = parsed.facts
  if (facts.kind === 'other') {
    const known = nameMediaType(parsed.mediaType)
    if (known) return known
    if (parsed.mediaType && parsed.mediaType !== 'application/octet-stream') return `File of type ${parsed.mediaType}`
    return 'Binary file'
  }
  if (parsed.format && !parsed.format.includes('/')) return clean(parsed.format)
  if (facts.kind === 'spreadsheet') return facts.format === 'ods' ? 'OpenDocument spreadsheet (ods)' : `Excel workbook (${facts.format})`
  if (facts.kind === 'image') return `${facts.format.toUpperCase()} image`
  return { csv: 'CSV', tsv: 'TSV', json: 'JSON', ndjson: 'NDJSON', markdown: 'Markdown', text: 'Plain text', pdf: 'PDF' }[facts.kind]
}

function describeWorkbook(label: string, facts: SpreadsheetFacts): string {
  const sheets = facts.sheets.length > 0 ? facts.sheets : facts.sheetNames.map((name) => ({ name, rows: 0, columns: 0 }))
  const only = facts.sheets.length === 1 ? facts.sheets[0] : undefined
  if (only) {
    const head = `${label}, 1 sheet ${quote(only.name, 40)}, ${sayTableSize(only)}`
    return only.columns > 0 ? `${head}: ${summariseColumns(only, MAX_CHARS - head.length - 2)}` : head
  }
  const head = `${label}, ${count(sheets.length, 'sheet')}`
  if (sheets.length === 0) return head
  const items = sheets.map((s) => `${quote(s.name, 30)}${s.rows > 0 || s.columns > 0 ? ` (${sayTableSize(s)})` : ''}`)
  return `${head}: ${fitList(items, MAX_CHARS - head.length - 2)}`
}

function sayTableSize(table: Pick<TableFacts, 'rows' | 'columns'>): string {
  return `${count(table.rows, 'row')} x ${count(table.columns, 'column')}`
}

const TYPE_GROUPS: Record<ColumnFacts['type'], string> = {
  integer: 'numeric', number: 'numeric', text: 'text', date: 'date', boolean: 'boolean', empty: 'empty',
}

/**
 * Few columns: each by name and type. Many: the first text or id-like column
 * by name (it usually says what a row is) and the rest counted by type.
 */
function summariseColumns(table: TableFacts, budget: number): string {
  const columns = table.columnFacts
  if (columns.length === 0) return fitList(table.columnNames.map((name) => clip(name, 30)), budget)
  if (table.hasHeader && columns.length <= 8) {
    const named = columns.map((c) => `${clip(c.name, 30)} (${c.type})`).join(', ')
    if (named.length <= budget) return named
  }
  const lead = table.hasHeader ? columns.find((c) => c.type === 'text' || /(^|[_ -])(id|key|code|name)$/i.test(c.name)) : undefined
  const rest = columns.filter((c) => c !== lead)
  const groups = new Map<string, number>()
  for (const c of rest) groups.set(TYPE_GROUPS[c.type], (groups.get(TYPE_GROUPS[c.type]) ?? 0) + 1)
  const tally = [...groups].sort((a, b) => b[1] - a[1]).map(([group, n]) => `${numbers.format(n)} ${group}`)
  const header = table.hasHeader ? '' : 'no header; '
  if (!lead) return groups.size === 1 ? `${header}all ${[...groups.keys()][0]}` : `${header}${tally.join(', ')}`
  const first = `${clip(lead.name, 30)} (${lead.type})`
  if (rest.length === 0) return first
  if (groups.size === 1) return `${first} and ${count(rest.length, `${[...groups.keys()][0]} column`)}`
  return `${first} and ${numbers.format(rest.length)} more (${tally.join(', ')})`
}

function describeJson(facts: JsonFacts): string {
  const flatDepth = facts.kind === 'json' && facts.shape === 'array' ? 2 : 1
  const nested = facts.depth > flatDepth ? `, nested ${facts.depth} deep` : ''
  const keys = facts.schema.map((k) => clip(k.key, 24))
  if (facts.kind === 'ndjson') {
    const invalid = facts.invalidLines ? `, ${count(facts.invalidLines, 'invalid line')}` : ''
    const head = `NDJSON, ${count(facts.records ?? 0, 'record')}`
    const budget = MAX_CHARS - head.length - nested.length - invalid.length - 12
    return `${head}${keys.length > 0 ? ` with keys ${fitList(keys, budget)}` : ''}${nested}${invalid}`
  }
  if (facts.shape === 'array') {
    if (keys.length === 0) return `JSON array of ${count(facts.records ?? 0, 'item')}${nested}`
    const head = `JSON array of ${count(facts.records ?? 0, 'record')} with keys `
    return `${head}${fitList(keys, MAX_CHARS - head.length - nested.length)}${nested}`
  }
  if (facts.shape === 'object') {
    const head = `JSON object with ${count(facts.records ?? keys.length, 'key')}`
    return keys.length > 0 ? `${head}: ${fitList(keys, MAX_CHARS - head.length - nested.length - 2)}${nested}` : head
  }
  return `JSON ${facts.shape} value`
}

function describeText(label: string, facts: TextFacts, firstLine: string | undefined): string {
  const title = facts.title ?? firstLine
  const quoted = title ? `: ${quote(title, 80)}` : ''
  if (facts.kind === 'text') return `${label}, ${count(facts.lines, 'line')}, ${count(facts.words, 'word')}${quoted}`
  const head = `${label}, ${count(facts.lines, 'line')}${quoted}`
  const headings = facts.headings ?? []
  if (headings.length === 0) return head
  const others = headings.filter((h, i) => !(i === 0 && h.text === title)).map((h) => clip(h.text, 30))
  const shown = others.slice(0, 3).join(', ') + (others.length > 3 ? ', ...' : '')
  return `${head}, ${count(headings.length, 'heading')}${shown ? ` (${shown})` : ''}`
}

function describePdf(label: string, facts: PdfFacts, firstLine: string | undefined): string {
  const head = facts.pages === null ? label : `${label}, ${count(facts.pages, 'page')}`
  if (facts.textCharacters === 0) return `${head}, no text layer (scanned?)`
  // Office exports often title a PDF "Microsoft Word - draft.docx"; the first line of text says more then.
  const meta = facts.title?.replace(/^Microsoft (Word|PowerPoint|Excel) - /, '').trim()
  const title = meta && !/^(untitled|document\d*|[^ ]+\.(docx?|pptx?|xlsx?|pdf|tex))$/i.test(meta) ? meta : firstLine
  const author = facts.author && clean(facts.author).length <= 40 ? ` by ${clean(facts.author)}` : ''
  return title ? `${head}: ${quote(title, 100)}${author}` : `${head}${author}`
}

function firstLineOf(parsed: Parsed): string | undefined {
  for (const section of parsed.sections) {
    const line = section.text.split('\n').find((l) => l.trim() !== '')
    if (line) return line
  }
  return undefined
}

/** Joins items with commas while they fit in `budget`; the rest become "(+N more)". */
function fitList(items: string[], budget: number): string {
  let out = ''
  for (const [i, item] of items.entries()) {
    const next = out ? `${out}, ${item}` : item
    const more = i + 1 < items.length ? ` (+${numbers.format(items.length - i - 1)} more)`.length : 0
    if (next.length + more > budget && out) return `${out} (+${numbers.format(items.length - i)} more)`
    out = next
  }
  return out
}

function count(n: number, noun: string): string {
  return `${numbers.format(n)} ${n === 1 ? noun : `${noun}s`}`
}

function quote(text: string, max: number): string {
  return `"${clip(text, max)}"`
}

/** One line (whitespace and control characters collapsed), cut to `max` characters with "...", at a word when one is near. */
function clip(text: string, max: number): string {
  const line = clean(text)
  if (line.length <= max) return line
  const cut = line.slice(0, max - 3)
  const space = cut.lastIndexOf(' ')
  return `${(space > cut.length * 0.7 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}...`
}

function clean(text: string): string {
  return text.replace(/[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim()
}
