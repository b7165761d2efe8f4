/**
 * The few facts worth a glance in the file list, read from a ready file's
 * metadata (the parser's facts). The metadata is read as untrusted JSON: a
 * field of the wrong type is left out, never shown as "undefined", "NaN" or
 * "[object Object]".
 */
const numbers = new Intl.NumberFormat('en-US')

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n)
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const count = (n: unknown, one: string, many: string) => (isCount(n) ? `${numbers.format(n)} ${n === 1 ? one : many}` : undefined)

/** "3 rows × 4 columns", or undefined unless both counts are numbers. */
function table(rows: unknown, columns: unknown): string | undefined {
  const r = count(rows, 'row', 'rows')
  const c = count(columns, 'column', 'columns')
  return r && c ? `${r} × ${c}` : undefined
}

export function keyFacts(metadata: Record<string, unknown> | null): string[] {
  if (!isObject(metadata)) return []
  const m = metadata
  const facts: (string | undefined)[] = []
  switch (m.kind) {
    case 'csv':
    case 'tsv':
      facts.push(table(m.rows, m.columns))
      break
    case 'spreadsheet': {
      const sheets = Array.isArray(m.sheets) ? m.sheets : undefined
      const names = Array.isArray(m.sheetNames) ? m.sheetNames : sheets
      if (names) facts.push(count(names.length, 'sheet', 'sheets'))
      const first: unknown = sheets?.[0]
      if (isObject(first) && typeof first.name === 'string') {
        const size = table(first.rows, first.columns)
        if (size) facts.push(`${first.name}: ${size}`)
      }
      break
    }
    case 'json':
    case 'ndjson':
      if (isCount(m.records)) facts.push(count(m.records, 'record', 'records'))
      else if ((m.records === null || m.records === undefined) && typeof m.shape === 'string' && m.shape) facts.push(`one ${m.shape}`)
      break
    case 'markdown':
    case 'text':
      facts.push(count(m.lines, 'line', 'lines'), count(m.words, 'word', 'words'))
      break
    case 'pdf':
      facts.push(count(m.pages, 'page', 'pages'))
      break
    case 'image':
      if (isCount(m.width) && isCount(m.height)) facts.push(`${m.width} × ${m.height} px`)
      if (isCount(m.frames) && m.frames > 1) facts.push(count(m.frames, 'frame', 'frames'))
      break
  }
  if (isObject(m.partial)) facts.push('read in part')
  return facts.filter((f): f is string => Boolean(f))
}
