/**
 * Which parser reads which kind of file. A new kind: one parser file, one
 * line here, one fixture.
 *
 * Modules load on first use: a parser process needs one of them, and a
 * module that fails to load then breaks its own kind only. `preloadParsers`
 * loads them all while a spare process waits for its file.
 */
import type { FileKind, Parser } from '../parsed.ts'

function lazy<M>(load: () => Promise<M>, pick: (module: M) => Parser): Parser & { load(): Promise<unknown> } {
  const parser = async (input: Parameters<Parser>[0]) => pick(await load())(input)
  return Object.assign(parser, { load })
}

/** Files the pipeline does not understand are still `ready`, with their size and type. */
const parseOther: Parser = async ({ source, mediaType }) => {
  source.destroy()
  return { format: mediaType === 'application/octet-stream' ? 'Binary file' : mediaType, facts: { kind: 'other' }, sections: [], textTruncated: false, notes: [] }
}

const csv = lazy(() => import('./csv.ts'), (m) => m.parseCsv)
const spreadsheet = lazy(() => import('./spreadsheet.ts'), (m) => m.parseSpreadsheet)
const json = lazy(() => import('./json.ts'), (m) => m.parseJson)
const text = lazy(() => import('./text.ts'), (m) => m.parseText)
const pdf = lazy(() => import('./pdf.ts'), (m) => m.parsePdf)
const image = lazy(() => import('./image.ts'), (m) => m.parseImage)

export const PARSERS = {
  csv,
  tsv: csv,
  spreadsheet,
  json,
  ndjson: json,
  markdown: text,
  text,
  pdf,
  image,
  other: parseOther,
} satisfies Record<FileKind, Parser>

/** Loads every parser module now; a module that fails is left to fail again, with its error, when its kind is parsed. */
export async function preloadParsers(): Promise<void> {
  await Promise.allSettled([csv, spreadsheet, json, text, pdf, image].map((p) => p.load()))
}
