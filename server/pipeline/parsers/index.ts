/** Which parser reads which kind of file. A new kind: one parser file, one line here, one fixture. */
import type { FileKind, Parser } from '../parsed.ts'
import { parseCsv } from './csv.ts'
import { parseImage } from './image.ts'
import { parseJson } from './json.ts'
import { parsePdf } from './pdf.ts'
import { parseSpreadsheet } from './spreadsheet.ts'
import { parseText } from './text.ts'

/** Files the pipeline does not understand are still `ready`, with their size and type. */
const parseOther: Parser = async ({ source, mediaType }) => {
  source.destroy()
  return { format: mediaType === 'application/octet-stream' ? 'Binary file' : mediaType, facts: { kind: 'other' }, sections: [], textTruncated: false, notes: [] }
}

export const PARSERS = {
  csv: parseCsv,
  tsv: parseCsv,
  spreadsheet: parseSpreadsheet,
  json: parseJson,
  ndjson: parseJson,
  markdown: parseText,
  text: parseText,
  pdf: parsePdf,
  image: parseImage,
  other: parseOther,
} satisfies Record<FileKind, Parser>
