/**
 * The parser process (see parse-process.ts): receives the job over IPC and
 * the file's bytes on stdin, decides the kind from the bytes, runs one
 * parser, sends back one ChildReply, exits. It exits too when the server
 * goes away (IPC disconnect), so a killed server leaves no parser behind.
 * It may be started ahead of need (see createParserPool) and wait for its job.
 */
import { Readable } from 'node:stream'
import { detectFileKind } from './detect-file-kind.ts'
import type { ChildJob, ChildReply } from './parse-process.ts'
import { type Parsed, ParseError } from './parsed.ts'
import { PARSERS, preloadParsers } from './parsers/index.ts'

const HEAD_BYTES = 64 * 1024

/** Reads the first `n` bytes, then hands back a stream of the whole input (head included). */
async function peek(source: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const chunks: Buffer[] = []
  let length = 0
  let done = false
  while (length < n) {
    const r = await it.next()
    if (r.done) {
      done = true
      break
    }
    chunks.push(r.value)
    length += r.value.length
  }
  const head = Buffer.concat(chunks)
  async function* replay() {
    try {
      yield head
      if (done) return
      for (;;) {
        const r = await it.next()
        if (r.done) return
        yield r.value
      }
    } finally {
      await it.return?.()
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(replay(), { objectMode: false }) }
}

async function parse(job: ChildJob): Promise<Parsed> {
  const { head, stream } = await peek(process.stdin, HEAD_BYTES)
  const detection = await detectFileKind({ head, filename: job.filename, declaredType: job.declaredType, size: job.size })
  if ('mismatch' in detection) throw new ParseError('type_mismatch', detection.message)
  const out = await PARSERS[detection.kind]({
    kind: detection.kind,
    mediaType: detection.mediaType,
    source: stream,
    size: job.size,
    filename: job.filename,
    limits: job.limits,
    tmpDir: process.env.TMPDIR ?? '.',
  })
  const notes = detection.note ? [detection.note, ...out.notes] : out.notes
  return boundFacts({ kind: detection.kind, mediaType: detection.mediaType, size: job.size, ...out, notes })
}

const MAX_STRING = 1000
const MAX_FACTS_JSON = 1024 * 1024

/**
 * Facts are a summary, and the server stores and serves them with every file
 * record: strings and keys are cut at MAX_STRING characters, and facts still
 * over MAX_FACTS_JSON (a workbook with thousands of sheets, say) keep only
 * their top-level numbers and short strings, marked partial.
 */
function boundFacts(parsed: Parsed): Parsed {
  const cut = (s: string) => (s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}...` : s)
  const json = JSON.stringify({ facts: parsed.facts, notes: parsed.notes, partial: parsed.partial }, function (_key, value: unknown) {
    if (typeof value === 'string') return cut(value)
    if (value && typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [cut(k), v]))
    return value
  })
  const bounded = JSON.parse(json) as Pick<Parsed, 'facts' | 'notes' | 'partial'>
  if (json.length <= MAX_FACTS_JSON) return { ...parsed, ...bounded }
  const scalars = Object.entries(bounded.facts).filter(([, v]) => typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 200))
  return {
    ...parsed,
    facts: Object.fromEntries(scalars) as Parsed['facts'],
    notes: bounded.notes.slice(0, 20),
    partial: { reason: `the facts of this file came to ${Math.round(json.length / 1024)} KiB, over the ${MAX_FACTS_JSON / 1024} KiB kept: only the top-level figures were kept` },
  }
}

function toReply(error: unknown): ChildReply {
  if (error instanceof ParseError) return { ok: false, code: error.code, message: error.message }
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof RangeError && /allocation failed|Invalid string length|Invalid typed array length|Array buffer|Maximum call stack/i.test(message)) {
    return { ok: false, code: 'too_large', message: `the file needs more memory or nesting than a parser may use (${message.slice(0, 120)})` }
  }
  return { ok: false, code: 'parse_failed', message: `the file could not be read: ${message.slice(0, 200)}` }
}

// A spare process loads its parsers while it waits for a file (a job that comes sooner loads what it needs itself).
void preloadParsers()

process.on('disconnect', () => process.exit(0))
process.once('message', (job: ChildJob) => {
  parse(job)
    .then((parsed): ChildReply => ({ ok: true, parsed }), toReply)
    .then((reply) => process.send?.(reply, () => process.exit(0)))
})
