/**
 * The only reader of process.env. Every variable is validated up front and
 * every problem is reported in one message, so an operator fixes them all in
 * one go instead of one restart per typo.
 */
import path from 'node:path'
import { z } from 'zod'
import { DEFAULT_ALLOWED_TYPES } from './uploads/type-rules.ts'

const GiB = 1024 ** 3

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

const positiveInt = (what: string) =>
  z
    .string()
    .regex(/^\d+$/, { error: `expected ${what} as a whole number` })
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n) && n > 0, { error: `expected ${what} greater than 0` })

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v)

const schema = z
  .object({
    /** TCP port of the HTTP server (tus, REST and the page). Default 1080, tusd's port. */
    PORT: z.preprocess(emptyAsUndefined, z.string().regex(/^\d+$/, { error: 'expected a port number (0-65535)' }).transform(Number).refine((n) => n <= 65535, { error: 'expected a port number (0-65535)' }).default(1080)),
    /** Address to bind. Default 127.0.0.1: nothing is exposed until you say so. */
    HOST: z.preprocess(emptyAsUndefined, z.string().min(1).default('127.0.0.1')),
    /** Where the embedded default keeps uploads and the PGlite database. Default ./data. */
    DATA_DIR: z.preprocess(emptyAsUndefined, z.string().min(1).default('./data')),
    /** Postgres connection string; when unset the embedded PGlite under DATA_DIR is used. */
    DATABASE_URL: z.preprocess(emptyAsUndefined, z.string().regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// or postgresql:// URL' }).optional()),
    /** Bucket for S3 multipart storage; when unset uploads go to DATA_DIR/uploads. */
    S3_BUCKET: z.preprocess(emptyAsUndefined, z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, dashes)' }).optional()),
    /** Endpoint of an S3-compatible store (MinIO, Ceph, Swift, R2 ...); unset means AWS. */
    S3_ENDPOINT: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional()),
    /** Region; S3-compatible stores usually want us-east-1. Default us-east-1. */
    S3_REGION: z.preprocess(emptyAsUndefined, z.string().min(1).default('us-east-1')),
    /** Access key; with the secret, or neither to use the SDK's default credential chain. */
    S3_ACCESS_KEY_ID: z.preprocess(emptyAsUndefined, z.string().optional()),
    /** Secret key matching S3_ACCESS_KEY_ID. */
    S3_SECRET_ACCESS_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
    /** Path-style URLs (http://host/bucket/key), needed by MinIO and most self-hosted stores. Default false. */
    S3_FORCE_PATH_STYLE: z.preprocess(emptyAsUndefined, bool.default(false)),
    /** Preferred S3 part size in bytes (S3 minimum 5 MiB). Default 8 MiB. */
    S3_PART_SIZE: z.preprocess(emptyAsUndefined, positiveInt('a part size in bytes').refine((n) => n >= 5 * 1024 * 1024, { error: 'expected at least 5242880 (S3 minimum part size)' }).default(8 * 1024 * 1024)),
    /** Largest accepted upload in bytes, advertised as Tus-Max-Size. Default 10 GiB. */
    MAX_UPLOAD_SIZE: z.preprocess(emptyAsUndefined, positiveInt('a size in bytes').default(10 * GiB)),
    /** An unfinished upload expires this many seconds after creation. Default 86400 (one day). */
    UPLOAD_EXPIRY_SECONDS: z.preprocess(emptyAsUndefined, positiveInt('seconds').default(86_400)),
    /** How long a presigned upload URL (POST /api/files/upload-url, S3 only) stays valid, in seconds (at most 7 days). Default 3600. */
    PRESIGN_EXPIRY_SECONDS: z.preprocess(emptyAsUndefined, positiveInt('seconds').refine((n) => n <= 604_800, { error: 'expected at most 604800 (7 days, the SigV4 limit)' }).default(3600)),
    /** How long a signed download link (POST /api/files/:id/download-url) stays valid, in seconds (at most a day). Default 300. */
    DOWNLOAD_LINK_EXPIRY_SECONDS: z.preprocess(emptyAsUndefined, positiveInt('seconds').refine((n) => n <= 86_400, { error: 'expected at most 86400 (a day)' }).default(300)),
    /** Key for signed download links, shared by instances behind one address (at least 32 bytes). Unset: each instance draws its own at start. */
    DOWNLOAD_LINK_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, { error: 'expected at least 32 characters' }).optional()),
    /** How often expired uploads are swept from storage, in seconds. Default 600. */
    CLEANUP_INTERVAL_SECONDS: z.preprocess(emptyAsUndefined, positiveInt('seconds').default(600)),
    /** Origins allowed by CORS, comma separated, or * for any. Default: * when authentication is required, none in local mode. */
    CORS_ORIGINS: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
    /** Build upload URLs from X-Forwarded-Host/-Proto (behind a proxy you trust). Default false. */
    TRUST_PROXY: z.preprocess(emptyAsUndefined, bool.default(false)),
    /** Files this instance parses at once; 0 leaves processing to other instances. Default 2. */
    WORKER_CONCURRENCY: z.preprocess(emptyAsUndefined, z.string().regex(/^\d+$/, { error: 'expected a whole number (0 disables processing here)' }).transform(Number).refine((n) => n <= 64, { error: 'expected at most 64' }).default(2)),
    /** A claimed job is held this long without a heartbeat before another worker may take it (a dead worker's job). Default 30. */
    JOB_LEASE_SECONDS: z.preprocess(emptyAsUndefined, positiveInt('seconds').default(30)),
    /** Attempts at a job that keeps failing for reasons not the file's own (storage, crashes) before the file is marked failed. Default 5. */
    JOB_MAX_ATTEMPTS: z.preprocess(emptyAsUndefined, positiveInt('a number of attempts').default(5)),
    /** A parser still running after this many seconds, plus one second per 8 MiB of the file, is killed and the file marked failed (parse_timeout). Default 120. */
    PARSE_TIMEOUT_SECONDS: z.preprocess(emptyAsUndefined, positiveInt('seconds').default(120)),
    /**
     * Address-space limit of each parser process, in MiB: an OS limit (RLIMIT_AS), so it caps Buffers too,
     * not only the V8 heap. Node reserves about 1.2 GiB of address space before it runs any code, so the
     * memory left for parsing is roughly this minus 1.2 GiB. Default 3072.
     */
    PARSE_MEMORY_MB: z.preprocess(emptyAsUndefined, positiveInt('MiB').refine((n) => n >= 1536, { error: 'expected at least 1536 (Node itself reserves about 1.2 GiB of address space)' }).default(3072)),
    /** Largest PDF, spreadsheet or JSON file read in full, in bytes; bigger ones get only cheap facts. Default 64 MiB. */
    PARSE_MAX_WHOLE_FILE_BYTES: z.preprocess(emptyAsUndefined, positiveInt('a size in bytes').default(64 * 1024 * 1024)),
    /** Extracted text kept per file (GET /api/files/:id/text), in bytes. Default 4 MiB. */
    PARSE_MAX_TEXT_BYTES: z.preprocess(emptyAsUndefined, positiveInt('a size in bytes').default(4 * 1024 * 1024)),
    /** OpenAI-compatible chat-completions endpoint that writes descriptions (OpenAI, Ollama, vLLM ...); unset: offline descriptions only. */
    DESCRIBE_LLM_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional()),
    /** Model name sent to DESCRIBE_LLM_URL. */
    DESCRIBE_LLM_MODEL: z.preprocess(emptyAsUndefined, z.string().optional()),
    /** Bearer token for DESCRIBE_LLM_URL (not needed by a local Ollama). */
    DESCRIBE_LLM_API_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
    /** How long the LLM may take before the offline description is kept. Default 20. */
    DESCRIBE_LLM_TIMEOUT_SECONDS: z.preprocess(emptyAsUndefined, positiveInt('seconds').default(20)),
    /**
     * Who may call. Unset: `required` when JWT_SECRET or JWT_JWKS_URL is set, else `local` (no
     * authentication, one local user, and only on a loopback HOST). `required`: every tus and API
     * request needs a Bearer JWT or an X-API-Key (API keys work whenever auth is required).
     * `none`: no authentication on any address, on purpose (one shared user).
     */
    AUTH: z.preprocess(emptyAsUndefined, z.enum(['local', 'required', 'none'], { error: 'expected local, required or none' }).optional()),
    /** HS256 secret for Bearer JWTs (at least 32 bytes). */
    JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, { error: 'expected at least 32 characters' }).optional()),
    /** JWKS URL for RS256/ES256 Bearer JWTs (an identity provider's keys). */
    JWT_JWKS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional()),
    /** Required `iss` of Bearer JWTs, when set. */
    JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().optional()),
    /** Required `aud` of Bearer JWTs, when set. */
    JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().optional()),
    /** Bytes each user may hold (finished files plus the declared size of unfinished ones); unset: no quota. */
    USER_QUOTA_BYTES: z.preprocess(emptyAsUndefined, positiveInt('a size in bytes').optional()),
    /** Upload creations per user per minute (per instance; bursts up to the same number); 0 turns the limit off. Default 600. */
    UPLOAD_RATE_LIMIT: z.preprocess(emptyAsUndefined, z.string().regex(/^\d+$/, { error: 'expected a whole number (0 turns the limit off)' }).transform(Number).default(600)),
    /** Accepted files: extensions and MIME types, comma separated (`image/*` works), or `*`. Default: the types the pipeline understands. */
    ALLOWED_TYPES: z.preprocess(emptyAsUndefined, z.string().min(1).default(DEFAULT_ALLOWED_TYPES)),
    /** pino level: fatal, error, warn, info, debug, trace or silent. Default info. */
    LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  })
  // `when`: zod skips object refinements once any field has failed, which would
  // hide these problems until the next restart; they read only plain strings, so run them always.
  .superRefine((env, ctx) => {
    if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({ code: 'custom', path: ['S3_SECRET_ACCESS_KEY'], message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both or neither' })
    }
    const jwt = Boolean(env.JWT_SECRET || env.JWT_JWKS_URL)
    const mode = env.AUTH ?? (jwt ? 'required' : 'local')
    if (mode !== 'required' && jwt) {
      ctx.addIssue({ code: 'custom', path: ['AUTH'], message: `JWT_SECRET/JWT_JWKS_URL are set but AUTH=${mode} would ignore them: unset AUTH or set it to required` })
    }
    if (mode === 'local' && env.HOST && !isLoopback(env.HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['HOST'],
        message: 'binding a non-loopback address without authentication: set JWT_SECRET or JWT_JWKS_URL (or AUTH=required for API keys only), or AUTH=none to serve without authentication on purpose',
      })
    }
    if (Boolean(env.DESCRIBE_LLM_URL) !== Boolean(env.DESCRIBE_LLM_MODEL)) {
      ctx.addIssue({ code: 'custom', path: ['DESCRIBE_LLM_MODEL'], message: 'DESCRIBE_LLM_URL and DESCRIBE_LLM_MODEL go together: set both or neither' })
    }
    if (!env.S3_BUCKET && (env.S3_ENDPOINT || env.S3_ACCESS_KEY_ID)) {
      ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'S3_* variables are set but S3_BUCKET is not: set it to use S3 storage' })
    }
  }, { when: () => true })

export type S3Config = {
  bucket: string
  endpoint?: string
  region: string
  credentials?: { accessKeyId: string; secretAccessKey: string }
  forcePathStyle: boolean
  partSize: number
}

/**
 * Unset CORS_ORIGINS: any origin when callers must authenticate, none in local mode, where any web
 * page the user opens could otherwise read and delete their files through the browser.
 */
function corsPolicy(spec: string | undefined, mode: string): readonly string[] | '*' {
  if (spec === undefined) return mode === 'local' ? Object.freeze([]) : '*'
  return spec.trim() === '*' ? '*' : Object.freeze(spec.split(',').map((o) => o.trim()).filter(Boolean))
}

/** 127.0.0.0/8, ::1 and localhost: nothing beyond this machine can connect. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

export type AuthConfig = {
  mode: 'local' | 'required' | 'none'
  jwt?: Readonly<{ secret?: string; jwksUrl?: string; issuer?: string; audience?: string }>
}

export type PipelineConfig = {
  concurrency: number
  leaseMs: number
  maxAttempts: number
  parseTimeoutMs: number
  parseMemoryBytes: number
  maxWholeFileBytes: number
  maxTextBytes: number
  llm?: Readonly<{ url: string; model: string; apiKey?: string; timeoutMs: number }>
}

export type Config = Readonly<{
  port: number
  host: string
  dataDir: string
  databaseUrl?: string
  s3?: Readonly<S3Config>
  maxUploadSize: number
  uploadExpiryMs: number
  presignExpirySeconds: number
  downloadLinks: Readonly<{ secret?: string; expirySeconds: number }>
  cleanupIntervalMs: number
  corsOrigins: readonly string[] | '*'
  trustProxy: boolean
  logLevel: string
  pipeline: Readonly<PipelineConfig>
  auth: Readonly<AuthConfig>
  limits: Readonly<{ userQuotaBytes?: number; uploadsPerMinute: number; allowedTypes: string }>
}>

const SECRET_VARS = new Set(['S3_SECRET_ACCESS_KEY', 'DATABASE_URL', 'DESCRIBE_LLM_URL', 'DESCRIBE_LLM_API_KEY', 'JWT_SECRET', 'DOWNLOAD_LINK_SECRET'])

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = i.path.join('.') || '(environment)'
      // The message goes to stderr and into log collectors: never echo a secret (a URL may carry a password).
      const shown = SECRET_VARS.has(name) ? (env[name] ? '[redacted]' : '') : (env[name] ?? '')
      return `  ${name}=${JSON.stringify(shown)}: ${i.message}`
    })
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    s3: e.S3_BUCKET
      ? Object.freeze({
          bucket: e.S3_BUCKET,
          endpoint: e.S3_ENDPOINT,
          region: e.S3_REGION,
          credentials:
            e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
              ? Object.freeze({ accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY })
              : undefined,
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
          partSize: e.S3_PART_SIZE,
        })
      : undefined,
    maxUploadSize: e.MAX_UPLOAD_SIZE,
    uploadExpiryMs: e.UPLOAD_EXPIRY_SECONDS * 1000,
    presignExpirySeconds: e.PRESIGN_EXPIRY_SECONDS,
    downloadLinks: Object.freeze({ secret: e.DOWNLOAD_LINK_SECRET, expirySeconds: e.DOWNLOAD_LINK_EXPIRY_SECONDS }),
    cleanupIntervalMs: e.CLEANUP_INTERVAL_SECONDS * 1000,
    corsOrigins: corsPolicy(e.CORS_ORIGINS, e.AUTH ?? (e.JWT_SECRET || e.JWT_JWKS_URL ? 'required' : 'local')),
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    limits: Object.freeze({ userQuotaBytes: e.USER_QUOTA_BYTES, uploadsPerMinute: e.UPLOAD_RATE_LIMIT, allowedTypes: e.ALLOWED_TYPES }),
    auth: Object.freeze({
      mode: e.AUTH ?? (e.JWT_SECRET || e.JWT_JWKS_URL ? 'required' : 'local'),
      jwt:
        e.JWT_SECRET || e.JWT_JWKS_URL
          ? Object.freeze({ secret: e.JWT_SECRET, jwksUrl: e.JWT_JWKS_URL, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE })
          : undefined,
    }),
    pipeline: Object.freeze({
      concurrency: e.WORKER_CONCURRENCY,
      leaseMs: e.JOB_LEASE_SECONDS * 1000,
      maxAttempts: e.JOB_MAX_ATTEMPTS,
      parseTimeoutMs: e.PARSE_TIMEOUT_SECONDS * 1000,
      parseMemoryBytes: e.PARSE_MEMORY_MB * 1024 * 1024,
      maxWholeFileBytes: e.PARSE_MAX_WHOLE_FILE_BYTES,
      maxTextBytes: e.PARSE_MAX_TEXT_BYTES,
      llm:
        e.DESCRIBE_LLM_URL && e.DESCRIBE_LLM_MODEL
          ? Object.freeze({ url: e.DESCRIBE_LLM_URL, model: e.DESCRIBE_LLM_MODEL, apiKey: e.DESCRIBE_LLM_API_KEY, timeoutMs: e.DESCRIBE_LLM_TIMEOUT_SECONDS * 1000 })
          : undefined,
    }),
  }
  return Object.freeze(config)
}
