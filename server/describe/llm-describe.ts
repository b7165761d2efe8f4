/**
 * Asks an OpenAI-compatible chat-completions endpoint (OpenAI, Ollama,
 * vLLM, llama.cpp server ...) for a one-line description of a file. Sends
 * the facts, the offline description and a short text preview; never the
 * whole file. Every failure is an Error the caller answers by keeping the
 * offline description. No logging: network only.
 */
import type { Parsed } from '../pipeline/parsed.ts'
import { describeFile, formatBytes } from './describe-file.ts'

export type LlmSettings = {
  /** Base URL (`https://api.openai.com/v1`) or the full chat-completions URL. */
  url: string
  model: string
  apiKey?: string
  timeoutMs: number
  fetch?: typeof fetch
}

export type LlmInput = { filename: string; contentType: string; size: number; parsed: Parsed; preview: string }

const FACTS_CHARS = 6000
const PREVIEW_CHARS = 4000
const ANSWER_CHARS = 300
const EXCERPT_CHARS = 200

const INSTRUCTIONS = [
  'You write the one-line description shown next to an uploaded file in a file listing.',
  'Answer with exactly one specific sentence of at most 200 characters: what the file contains and its shape',
  '(rows and columns, sheets, pages, records), using only the facts and preview given; never invent details.',
  'Plain text only: no preamble, no quotes, no Markdown, no line breaks.',
].join(' ')

/** Describes a file with an LLM; throws when the endpoint fails, answers nonsense or takes longer than `timeoutMs`. */
export async function describeWithLlm(settings: LlmSettings, input: LlmInput, signal?: AbortSignal): Promise<string> {
  const endpoint = toChatCompletionsUrl(settings.url)
  const where = `${endpoint.origin}${endpoint.pathname}` // never the query or user info: they may hold a key
  const timeout = AbortSignal.timeout(settings.timeoutMs)
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`
  const body = {
    model: settings.model,
    messages: [
      { role: 'system', content: INSTRUCTIONS },
      { role: 'user', content: writePrompt(input) },
    ],
    temperature: 0.2,
    max_tokens: 120,
  }
  let status: number
  let text: string
  try {
    const response = await (settings.fetch ?? fetch)(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    })
    status = response.status
    text = await response.text()
  } catch (error) {
    if (timeout.aborted) throw new Error(`the LLM at ${where} did not answer within ${settings.timeoutMs} ms`, { cause: error })
    if (signal?.aborted) throw new Error(`the LLM request to ${where} was cancelled`, { cause: error })
    throw new Error(`the LLM request to ${where} failed: ${(error as Error).message}`, { cause: error })
  }
  if (status < 200 || status > 299) throw new Error(`the LLM at ${where} answered HTTP ${status}: ${excerpt(text)}`)
  let content: unknown
  try {
    content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content
  } catch (error) {
    throw new Error(`the LLM at ${where} answered HTTP ${status} with something that is not JSON: ${excerpt(text)}`, { cause: error })
  }
  const answer = typeof content === 'string' ? cleanAnswer(content) : ''
  if (answer === '') throw new Error(`the LLM at ${where} answered HTTP ${status} without a description: ${excerpt(text)}`)
  return answer
}

/** Appends `/chat/completions` unless the path already ends with it. */
export function toChatCompletionsUrl(url: string): URL {
  const endpoint = new URL(url)
  const path = endpoint.pathname.replace(/\/+$/, '')
  if (!path.endsWith('/chat/completions')) endpoint.pathname = `${path}/chat/completions`
  return endpoint
}

function writePrompt(input: LlmInput): string {
  const { parsed } = input
  return [
    `File name: ${input.filename}`,
    `Type: ${input.contentType} (${parsed.format || parsed.kind})`,
    `Size: ${formatBytes(input.size)} (${input.size} bytes)`,
    `Offline description: ${describeFile(parsed, { filename: input.filename })}`,
    parsed.partial ? `Only partly read: ${parsed.partial.reason}` : '',
    parsed.notes.length > 0 ? `Notes: ${parsed.notes.slice(0, 5).join('; ')}` : '',
    `Facts (JSON): ${stringifyFacts(parsed.facts)}`,
    `Text preview (the start of the extracted text):`,
    cutText(input.preview, PREVIEW_CHARS),
  ]
    .filter((line) => line !== '')
    .join('\n')
}

/** The facts as compact JSON within FACTS_CHARS: long arrays and strings are shortened first, then the whole is cut. */
function stringifyFacts(facts: Parsed['facts']): string {
  const json = JSON.stringify(facts, (_key, value: unknown) => {
    if (Array.isArray(value) && value.length > 20) return [...value.slice(0, 20), `... ${value.length - 20} more`]
    if (typeof value === 'string' && value.length > 200) return `${value.slice(0, 200)}...`
    return value
  })
  return json.length <= FACTS_CHARS ? json : `${json.slice(0, FACTS_CHARS)} ...(cut)`
}

/**
 * One line: reasoning models' <think> blocks dropped, whitespace collapsed,
 * a "Description:" label and wrapping quotes removed, at most ANSWER_CHARS.
 */
function cleanAnswer(content: string): string {
  let line = content.replace(/<think>[\s\S]*?<\/think>/gi, '').replace(/\s+/g, ' ').trim()
  for (let pass = 0; pass < 3; pass++) {
    const before = line
    line = line.replace(/^(\*\*)?(description|summary)(\*\*)?\s*:\s*/i, '')
    const quoted = /^(["'`\u201c\u2018])(.*)(["'`\u201d\u2019])$/.exec(line)
    const [, , inner = '', close = ''] = quoted ?? []
    // `"CSV" of "genes"` is not one quoted answer; an apostrophe inside single quotes is fine.
    const apostrophes = close === "'" || close === '\u2019'
    if (quoted && (apostrophes || !inner.includes(close))) line = inner.trim()
    if (line === before) break
  }
  return cutText(line, ANSWER_CHARS)
}

function cutText(text: string, max: number): string {
  if (text.length <= max) return text
  const cut = text.slice(0, max - 3).replace(/[\uD800-\uDBFF]$/, '')
  return `${cut}...`
}

function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line === '' ? '(empty body)' : cutText(line, EXCERPT_CHARS)
}
