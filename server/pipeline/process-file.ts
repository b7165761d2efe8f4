/**
 * One job: read a finished file from storage, parse it in the sandbox,
 * describe it. Returns what to store; the worker stores it. Failures come out
 * as ParseFailure: `retryable` ones (storage, a crash not caused by the file)
 * are tried again later, the rest are the file's own and final.
 */
import { Readable } from 'node:stream'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { PipelineConfig } from '../config.ts'
import * as files from '../db/file.repository.ts'
import type { Database } from '../db/schema.ts'
import { describeFile } from '../describe/describe-file.ts'
import { describeWithLlm } from '../describe/llm-describe.ts'
import { isAppError } from '../errors.ts'
import type { Storage } from '../storage/storage.ts'
import { DEFAULT_PARSE_LIMITS, type Parsed, type ParseLimits, type TextSection } from './parsed.ts'
import { ParseFailure, type ParserPool } from './parse-process.ts'

export type ProcessDeps = {
  db: Kysely<Database>
  storage: Storage
  log: Logger
  config: PipelineConfig
  /** Parser processes, one per file. */
  parsers: ParserPool
}

export type Processed = { metadata: Record<string, unknown>; description: string; sections: TextSection[] }

const LLM_PREVIEW_CHARS = 4000
/** The parser process caps facts at 1 MiB of JSON; anything bigger here did not come from it. */
const MAX_METADATA_CHARACTERS = 2 * 1024 * 1024

export function parseLimitsOf(config: PipelineConfig): ParseLimits {
  return { ...DEFAULT_PARSE_LIMITS, wholeFileBytes: config.maxWholeFileBytes, maxTextBytes: config.maxTextBytes }
}

/** Undefined when the file is gone (deleted while queued): nothing to do. */
export async function processFile(deps: ProcessDeps, fileId: string, signal: AbortSignal): Promise<Processed | undefined> {
  const file = await files.findFile(deps.db, fileId)
  if (!file) return undefined
  let source: Readable
  try {
    // An empty upload may have no object at all on S3: there is nothing to read either way.
    source = file.size === 0 ? Readable.from([]) : await deps.storage.read(fileId)
  } catch (error) {
    if (isAppError(error) && error.code === 'ERR_FILE_NOT_FOUND') {
      throw new ParseFailure('missing_bytes', 'the stored bytes of this file are missing', false, { cause: error })
    }
    throw new ParseFailure('storage_read_failed', `reading the stored file failed: ${(error as Error).message}`, true, { cause: error })
  }
  const parsed = await deps.parsers.parse({ source, size: file.size ?? 0, filename: file.filename, declaredType: file.contentType, limits: parseLimitsOf(deps.config) }, signal)
  // The facts are small (the parser process caps them); the text is cleaned section by section.
  const clean: Parsed = { ...storable({ ...parsed, sections: [] }), sections: parsed.sections.map((s) => ({ title: storableString(s.title), text: storableString(s.text) })) }
  const metadata = toMetadata(clean)
  if (JSON.stringify(metadata).length > MAX_METADATA_CHARACTERS) {
    throw new ParseFailure('facts_too_large', 'the facts read from this file are too large to store', false)
  }
  const description = await describe(deps, file, clean, signal)
  return { metadata, description, sections: clean.sections }
}

async function describe(deps: ProcessDeps, file: files.FileRecord, parsed: Parsed, signal: AbortSignal): Promise<string> {
  const offline = describeFile(parsed, { filename: file.filename })
  const llm = deps.config.llm
  if (!llm) return offline
  let preview = ''
  for (const section of parsed.sections) {
    if (preview.length >= LLM_PREVIEW_CHARS) break
    preview += `${section.title}\n${section.text}\n`
  }
  try {
    const input = { filename: file.filename, contentType: parsed.mediaType, size: parsed.size, parsed, preview: preview.slice(0, LLM_PREVIEW_CHARS) }
    return await describeWithLlm(llm, input, signal)
  } catch (err) {
    deps.log.warn({ err, uploadId: file.id }, 'describe.llm_failed')
    return offline
  }
}

/** The facts as stored in file.metadata (and served as `metadata`): flat, so an agent reads `metadata.rows`. */
export function toMetadata(parsed: Parsed): Record<string, unknown> {
  return {
    ...parsed.facts,
    format: parsed.format,
    mediaType: parsed.mediaType,
    ...(parsed.partial ? { partial: parsed.partial } : {}),
    notes: parsed.notes,
    text: { sections: parsed.sections.length, characters: parsed.sections.reduce((n, s) => n + s.text.length, 0), truncated: parsed.textTruncated },
  }
}

/**
 * Postgres text and jsonb cannot hold U+0000, nor (jsonb) a lone UTF-16
 * surrogate, and a hostile file can put either in its facts (a JSON key
 * "\ud800", a title cut inside an emoji): every string and key is made
 * storable. Object.fromEntries defines own properties, so a `__proto__` key
 * stays a plain key.
 */
export function storableString(value: string): string {
  return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value).toWellFormed()
}

export function storable<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => {
    if (typeof v === 'string') return storableString(v)
    if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableString(k), x] as const))
    return v
  }) as T
}
