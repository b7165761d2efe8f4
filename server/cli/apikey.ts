/**
 * `npm run apikey -- <command>`: creates, revokes and lists API keys in the
 * database the server uses (same environment: DATABASE_URL, or the PGlite
 * under DATA_DIR). Like main.ts, a top of the house: it reads the config and
 * builds the database client itself.
 *
 * Output: a new key alone on stdout (so `... create --user a > key.txt`
 * captures just the key), every note and error on stderr.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { Kysely } from 'kysely'
import { createApiKey, parseApiKey } from '../auth/api-keys.ts'
import { ConfigError, loadConfig } from '../config.ts'
import { listApiKeys, revokeApiKey } from '../db/api-key.repository.ts'
import { createDatabase } from '../db/database.ts'
import { migrateToLatest } from '../db/migrate.ts'
import type { Database } from '../db/schema.ts'

const USAGE = `usage: npm run apikey -- <command>

  create --user <id> [--label <text>]   make a key for a user; it is printed once, never again
  revoke <key id>                       refuse the key from now on (the id is the part after fdk_)
  list [--user <id>]                    every key (of one user): id, user, label, dates, status

Uses the server's database: DATABASE_URL, else the embedded PGlite under DATA_DIR
(default ./data). The embedded database admits one process at a time: stop the
server first, or run both on Postgres (DATABASE_URL).`

/** Wrong command line: one line on stderr, exit 2. */
class UsageError extends Error {}
/** The command was understood but cannot be done (unknown key id): exit 1. */
class CommandError extends Error {}

type Command =
  | { name: 'create'; userId: string; label?: string }
  | { name: 'revoke'; id: string }
  | { name: 'list'; userId?: string }
  | { name: 'help' }

function parseCommand(argv: string[]): Command {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { user: { type: 'string' }, label: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    })
  } catch (error) {
    // parseArgs explains at length how to pass a positional that starts with '-'; the first sentence is the news.
    throw new UsageError((error as Error).message.split(/\. |\n/)[0] as string)
  }
  const { values, positionals } = parsed
  const [name, ...rest] = positionals
  if (values.help || name === 'help') return { name: 'help' }
  const noMore = (allowed: string[]) => {
    if (rest.length > 0) throw new UsageError(`${name}: unexpected argument "${rest[0]}"`)
    for (const option of ['user', 'label'] as const) {
      if (values[option] !== undefined && !allowed.includes(option)) throw new UsageError(`${name} does not take --${option}`)
    }
  }
  switch (name) {
    case 'create':
      noMore(['user', 'label'])
      if (values.user === undefined) throw new UsageError('create needs --user <id>')
      return { name, userId: values.user, label: values.label }
    case 'revoke': {
      const [id, ...extra] = rest
      if (id === undefined) throw new UsageError('revoke needs the key id: revoke <key id>')
      if (extra.length > 0) throw new UsageError(`revoke: unexpected argument "${extra[0]}"`)
      if (values.user !== undefined || values.label !== undefined) throw new UsageError('revoke takes only the key id')
      return { name, id }
    }
    case 'list':
      noMore(['user'])
      return { name, userId: values.user }
    case undefined:
      throw new UsageError('no command given (create, revoke or list)')
    default:
      throw new UsageError(`unknown command "${name}" (create, revoke or list)`)
  }
}

function formatDate(date: Date | null): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-'
}

async function run(command: Exclude<Command, { name: 'help' }>, db: Kysely<Database>): Promise<void> {
  switch (command.name) {
    case 'create': {
      let created
      try {
        created = await createApiKey(db, { userId: command.userId, label: command.label })
      } catch (error) {
        if (error instanceof RangeError) throw new UsageError(error.message)
        throw error
      }
      process.stdout.write(`${created.key}\n`)
      process.stderr.write(`API key ${created.id} created for user ${JSON.stringify(command.userId)}. Copy it now: it will not be shown again.\n`)
      return
    }
    case 'revoke': {
      // Accept a whole key too: it is what an operator holding a leaked key has at hand.
      const id = parseApiKey(command.id)?.id ?? command.id
      if (!(await revokeApiKey(db, id))) throw new CommandError(`no active API key with id ${JSON.stringify(id)} (see: npm run apikey -- list)`)
      process.stderr.write(`API key ${id} revoked.\n`)
      return
    }
    case 'list': {
      const keys = await listApiKeys(db, command.userId)
      if (keys.length === 0) {
        process.stderr.write(command.userId === undefined ? 'no API keys\n' : `no API keys for user ${JSON.stringify(command.userId)}\n`)
        return
      }
      const rows = [['ID', 'USER', 'LABEL', 'CREATED', 'LAST USED', 'STATUS']]
      for (const k of keys) {
        rows.push([k.id, k.userId, k.label ?? '-', formatDate(k.createdAt), formatDate(k.lastUsedAt), k.revokedAt ? `revoked ${formatDate(k.revokedAt)}` : 'active'])
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
      for (const r of rows) process.stdout.write(`${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`)
      return
    }
  }
}

async function main(argv: string[]): Promise<number> {
  let db: Kysely<Database> | undefined
  try {
    const command = parseCommand(argv)
    if (command.name === 'help') {
      process.stdout.write(`${USAGE}\n`)
      return 0
    }
    const config = loadConfig(process.env)
    db = await createDatabase(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir: path.join(config.dataDir, 'pglite') })
    await migrateToLatest(db)
    await run(command, db)
    return 0
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`apikey: ${error.message} (see: npm run apikey -- --help)\n`)
      return 2
    }
    if (error instanceof CommandError || error instanceof ConfigError) {
      process.stderr.write(`apikey: ${error.message}\n`)
      return 1
    }
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
    process.stderr.write(`apikey: ${error instanceof Error ? error.message : String(error)}${cause}\n`)
    return 1
  } finally {
    await db?.destroy().catch(() => {})
  }
}

process.exitCode = await main(process.argv.slice(2))
