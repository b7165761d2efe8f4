/** Entry point: the only place that reads the environment. */
import './threadpool.ts'
import { mkdir, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import pino from 'pino'
import { ConfigError, loadConfig } from './config.ts'
import { startServer } from './start.ts'

let config
try {
  config = loadConfig(process.env)
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`filedock: ${error.message}\n`)
    process.exit(1)
  }
  throw error
}

const log = pino({
  level: config.logLevel,
  redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.secretAccessKey'], censor: '[redacted]' },
})

/**
 * @tus/s3-store spools each part to os.tmpdir() before sending it. Those files
 * are ours to clean: a private directory under DATA_DIR, emptied at start-up
 * (nothing is in flight then). Parser processes have their own (parse-tmp.ts).
 */
async function privateTmpDir(dataDir: string): Promise<string> {
  const dir = path.join(dataDir, 'tmp', 's3-parts')
  await mkdir(dir, { recursive: true })
  await Promise.all((await readdir(dir)).map((name) => rm(path.join(dir, name), { recursive: true, force: true })))
  return dir
}

if (config.s3) {
  // The S3 store spools parts to os.tmpdir(), which reads TMPDIR on every call.
  process.env.TMPDIR = await privateTmpDir(config.dataDir)
}

const running = await startServer(config, log)
log.info(
  { url: running.url, storage: config.s3 ? `s3://${config.s3.bucket}` : `${config.dataDir}/uploads`, database: config.databaseUrl ? 'postgres' : 'pglite', maxUploadSize: config.maxUploadSize },
  'server.listening',
)
process.stdout.write(`filedock listening on ${running.url} (tus endpoint ${running.url}/files)\n`)
const authNotice = {
  local: `authentication off: every request acts as the one local user, and the server only listens on loopback (${config.host}); set JWT_SECRET, JWT_JWKS_URL or AUTH=required to require credentials`,
  none: 'authentication off on purpose (AUTH=none): anyone who can reach this port can upload, read and delete every file',
  required: `authentication required: ${config.auth.jwt ? 'Bearer JWTs or ' : ''}X-API-Key (npm run apikey -- create --user <name>)`,
}[config.auth.mode]
process.stdout.write(`filedock ${authNotice}\n`)
log.info({ auth: config.auth.mode }, 'server.auth')

let stopping = false
async function shutdown(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  log.info({ signal }, 'server.stopping')
  try {
    await running.close()
    process.exit(0)
  } catch (err) {
    log.error({ err }, 'server.stop_failed')
    process.exit(1)
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
