/**
 * API keys against a real database on every backend: made, verified, refused
 * (malformed, wrong secret, unknown id, revoked: each with the message a
 * client will see), stored without their secret, and driven end to end
 * through the `apikey` command as an operator runs it.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createApiKey, createApiKeyVerifier, INVALID_KEY_MESSAGE, MALFORMED_KEY_MESSAGE } from '../server/auth/api-keys.ts'
import { AuthError } from '../server/auth/principal.ts'
import { listApiKeys, revokeApiKey } from '../server/db/api-key.repository.ts'
import { createDatabase } from '../server/db/database.ts'
import { migrateToLatest } from '../server/db/migrate.ts'
import type { Database } from '../server/db/schema.ts'
import { backends, makeTestEnv, type TestEnv } from './helpers/backends.ts'

const CLI = path.resolve(import.meta.dirname, '../server/cli/apikey.ts')

async function openDatabase(testEnv: TestEnv): Promise<Kysely<Database>> {
  const { config } = testEnv
  const db = await createDatabase(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir: path.join(config.dataDir, 'pglite') })
  await migrateToLatest(db)
  return db
}

async function expectRefused(promise: Promise<unknown>, message: string): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(AuthError)
  expect((error as AuthError).message).toBe(message)
}

/**
 * The verifier records last use without awaiting it. PGlite runs queries one
 * at a time, in order: after one more round trip that write is done, and
 * closing the database cannot cut it off mid-flight.
 */
async function settleTouches(db: Kysely<Database>): Promise<void> {
  await db.selectFrom('api_key').select('id').limit(1).execute()
}

const secretOf = (key: string): string => key.slice('fdk_'.length + 12 + 1)

describe.each(backends())('API keys on $name', (backend) => {
  let testEnv: TestEnv
  let db: Kysely<Database>
  let verify: ReturnType<typeof createApiKeyVerifier>
  beforeAll(async () => {
    testEnv = await makeTestEnv(backend)
    db = await openDatabase(testEnv)
    verify = createApiKeyVerifier(db)
  })
  afterAll(async () => {
    if (db) await settleTouches(db)
    await db?.destroy()
    await testEnv?.cleanup()
  })

  it('makes keys of the form fdk_<id>_<secret> that verify as their user', async () => {
    const { id, key } = await createApiKey(db, { userId: 'alice', label: 'laptop' })
    expect(key).toMatch(/^fdk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
    expect(key.startsWith(`fdk_${id}_`)).toBe(true)
    expect(await verify(key)).toEqual({ userId: 'alice', keyId: id })
  })

  it('refuses a key whose secret is wrong, as if the key did not exist', async () => {
    const { key } = await createApiKey(db, { userId: 'alice' })
    const last = key.at(-1) === 'A' ? 'B' : 'A'
    await expectRefused(verify(key.slice(0, -1) + last), INVALID_KEY_MESSAGE)
    // Another key's secret under this id: well-formed, real, and still refused.
    const other = await createApiKey(db, { userId: 'alice' })
    await expectRefused(verify(key.slice(0, 'fdk_'.length + 13) + secretOf(other.key)), INVALID_KEY_MESSAGE)
  })

  it('refuses an unknown id with the same message as a wrong secret', async () => {
    const { key } = await createApiKey(db, { userId: 'alice' })
    await expectRefused(verify(`fdk_000000000000_${secretOf(key)}`), INVALID_KEY_MESSAGE)
  })

  it('refuses anything that is not a filedock key, saying so', async () => {
    const { key } = await createApiKey(db, { userId: 'alice' })
    const garbage = ['', 'secret', `Bearer ${key}`, `${key} `, `${key}x`, key.slice(0, -1), key.toUpperCase(), key.replace('fdk_', 'fdx_'), `fdk_${'z'.repeat(12)}_${secretOf(key)}`, 'fdk__', '\u0000'.repeat(60)]
    for (const value of garbage) await expectRefused(verify(value), MALFORMED_KEY_MESSAGE)
  })

  it('refuses a key once revoked, and a second revoke reports nothing to revoke', async () => {
    const { id, key } = await createApiKey(db, { userId: 'bob' })
    expect(await verify(key)).toEqual({ userId: 'bob', keyId: id })
    expect(await revokeApiKey(db, id)).toBe(true)
    await expectRefused(verify(key), INVALID_KEY_MESSAGE)
    expect(await revokeApiKey(db, id)).toBe(false)
    expect(await revokeApiKey(db, '000000000000')).toBe(false)
  })

  it('stores only the SHA-256 of the secret, never the secret or the key', async () => {
    const { id, key } = await createApiKey(db, { userId: 'carol', label: 'ci' })
    const row = await db.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    const stored = JSON.stringify(row)
    expect(stored).not.toContain(secretOf(key))
    expect(stored).not.toContain(Buffer.from(secretOf(key), 'base64url').toString('hex'))
    expect(row.secret_hash).toBe(createHash('sha256').update(secretOf(key)).digest('hex'))
    expect(row).toMatchObject({ user_id: 'carol', label: 'ci', revoked_at: null })
  })

  it('lists keys without their hashes, all or one user\'s', async () => {
    const { id } = await createApiKey(db, { userId: 'dave', label: 'phone' })
    const mine = await listApiKeys(db, 'dave')
    expect(mine).toEqual([{ id, userId: 'dave', label: 'phone', createdAt: expect.any(Date), lastUsedAt: null, revokedAt: null }])
    const all = await listApiKeys(db)
    expect(all.map((k) => k.id)).toContain(id)
    expect(new Set(all.map((k) => k.userId))).toEqual(new Set(['alice', 'bob', 'carol', 'dave']))
    for (const k of all) expect(Object.keys(k)).not.toContain('secretHash')
    expect(all.find((k) => k.userId === 'bob')?.revokedAt).toBeInstanceOf(Date)
  })

  it('records when a key was last used, at most once a minute', async () => {
    const { id, key } = await createApiKey(db, { userId: 'erin' })
    await verify(key)
    const firstUse = await vi.waitFor(async () => {
      const [record] = await listApiKeys(db, 'erin')
      expect(record?.lastUsedAt).toBeInstanceOf(Date)
      return record?.lastUsedAt as Date
    })
    await verify(key)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const [again] = await listApiKeys(db, 'erin')
    expect(again).toMatchObject({ id, lastUsedAt: firstUse })
  })

  it('refuses user ids that are empty, over 200 characters or hold control characters', async () => {
    for (const userId of ['', 'x'.repeat(201), 'ali\nce', 'bob\u001b[2J', 'tab\there']) {
      await expect(createApiKey(db, { userId })).rejects.toThrow(/user id must be 1 to 200 characters/)
    }
    const { key } = await createApiKey(db, { userId: 'é'.repeat(200) })
    expect((await verify(key)).userId).toBe('é'.repeat(200))
  })
})

type Run = { code: number; stdout: string; stderr: string }

describe.each(backends())('npm run apikey on $name', (backend) => {
  let testEnv: TestEnv
  const cli = async (...args: string[]): Promise<Run> => {
    const env = { ...testEnv.env, PATH: process.env.PATH ?? '' }
    return promisify(execFile)(process.execPath, [CLI, ...args], { env, timeout: 60_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code?: number; stdout: string; stderr: string }) => ({ code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr }),
    )
  }
  /** Opens the database only between commands: the embedded one admits a single process. */
  const verifyWithServerDatabase = async (key: string) => {
    const db = await openDatabase(testEnv)
    try {
      return await createApiKeyVerifier(db)(key).catch((e: unknown) => e)
    } finally {
      await settleTouches(db)
      await db.destroy()
    }
  }
  beforeAll(async () => {
    testEnv = await makeTestEnv(backend)
  })
  afterAll(async () => {
    await testEnv?.cleanup()
  })

  it('creates a key shown once, which verifies until revoked by id', async () => {
    const created = await cli('create', '--user', 'alice', '--label', 'laptop')
    expect(created.code).toBe(0)
    const key = created.stdout.trim()
    expect(key).toMatch(/^fdk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
    expect(created.stderr).toMatch(/will not be shown again/)
    const id = key.slice(4, 16)
    expect(await verifyWithServerDatabase(key)).toEqual({ userId: 'alice', keyId: id })

    const listed = await cli('list', '--user', 'alice')
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+alice\\s+laptop\\s.*\\sactive$`, 'm'))
    expect(listed.stdout).not.toContain(key.slice(17))

    const revoked = await cli('revoke', id)
    expect(revoked).toMatchObject({ code: 0, stdout: '' })
    expect(revoked.stderr).toContain(`API key ${id} revoked`)
    const refused = await verifyWithServerDatabase(key)
    expect(refused).toBeInstanceOf(AuthError)
    expect((refused as AuthError).message).toBe(INVALID_KEY_MESSAGE)
    expect((await cli('list')).stdout).toMatch(new RegExp(`^${id}\\s.*\\srevoked \\S+$`, 'm'))
  })

  it('fails with one line on bad usage or an unknown id', async () => {
    const cases: [string[], number, RegExp][] = [
      [[], 2, /no command given/],
      [['frob'], 2, /unknown command "frob"/],
      [['create'], 2, /create needs --user/],
      [['create', '--user', 'a\tb'], 2, /user id must be/],
      [['create', '--user', 'alice', '--bogus'], 2, /Unknown option '--bogus'/],
      [['revoke'], 2, /revoke needs the key id/],
      [['revoke', '000000000000'], 1, /no active API key with id "000000000000"/],
    ]
    const runs = await Promise.all(cases.map(([args]) => cli(...args)))
    for (const [i, [args, code, message]] of cases.entries()) {
      const run = runs[i] as Run
      expect({ args, code: run.code }).toEqual({ args, code })
      expect(run.stderr).toMatch(message)
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(run.stdout).toBe('')
    }
  })
})
