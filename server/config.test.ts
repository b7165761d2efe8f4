import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.ts'

const GiB = 1024 ** 3

/** The ConfigError loadConfig throws for `env`; fails the test when it does not throw one. */
function configErrorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('loadConfig', () => {
  it('serves on 127.0.0.1:1080 from ./data with a 10 GiB limit when nothing is set', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      port: 1080,
      host: '127.0.0.1',
      dataDir: path.resolve('data'),
      maxUploadSize: 10 * GiB,
      corsOrigins: [], // local mode: no other origin may read the local user's files
      trustProxy: false,
      logLevel: 'info',
    })
    expect(path.isAbsolute(config.dataDir)).toBe(true)
    expect(config.s3).toBeUndefined()
    expect(config.databaseUrl).toBeUndefined()
  })

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', HOST: '', MAX_UPLOAD_SIZE: '', S3_BUCKET: '' })).toMatchObject({ port: 1080, host: '127.0.0.1', maxUploadSize: 10 * GiB, s3: undefined })
  })

  it('reads PORT, HOST, DATA_DIR, DATABASE_URL and MAX_UPLOAD_SIZE', () => {
    const config = loadConfig({ PORT: '0', HOST: '0.0.0.0', AUTH: 'none', DATA_DIR: 'var/filedock', DATABASE_URL: 'postgresql://u:p@db:5432/files', MAX_UPLOAD_SIZE: '1048576' })
    expect(config).toMatchObject({ port: 0, host: '0.0.0.0', dataDir: path.resolve('var/filedock'), databaseUrl: 'postgresql://u:p@db:5432/files', maxUploadSize: 1048576 })
  })

  it('switches to S3 storage when S3_BUCKET is set, with AWS-compatible defaults', () => {
    expect(loadConfig({ S3_BUCKET: 'uploads' }).s3).toEqual({
      bucket: 'uploads',
      endpoint: undefined,
      region: 'us-east-1',
      credentials: undefined,
      forcePathStyle: false,
      partSize: 8 * 1024 * 1024,
    })
  })

  it('passes endpoint, keys and path style through to the S3 settings', () => {
    const { s3 } = loadConfig({
      S3_BUCKET: 'tus-uploads',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_REGION: 'eu-west-3',
      S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI',
      S3_FORCE_PATH_STYLE: 'true',
    })
    expect(s3).toEqual({
      bucket: 'tus-uploads',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-3',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI' },
      forcePathStyle: true,
      partSize: 8 * 1024 * 1024,
    })
  })

  it('splits CORS_ORIGINS on commas', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example,' }).corsOrigins).toEqual(['https://a.example', 'https://b.example'])
  })

  it('names every bad variable in one ConfigError, each with what was expected', () => {
    const error = configErrorFor({
      PORT: 'abc',
      MAX_UPLOAD_SIZE: '-5',
      S3_FORCE_PATH_STYLE: 'maybe',
      DATABASE_URL: 'mysql://x',
      S3_BUCKET: 'uploads',
      S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    })
    expect(error.name).toBe('ConfigError')
    expect(error.message).toMatch(/PORT="abc": expected a port number/)
    expect(error.message).toMatch(/MAX_UPLOAD_SIZE="-5": expected a size in bytes/)
    expect(error.message).toMatch(/S3_FORCE_PATH_STYLE="maybe": expected true or false/)
    expect(error.message).toMatch(/DATABASE_URL=.*: expected a postgres:\/\/ or postgresql:\/\/ URL/)
    expect(error.message).toMatch(/S3_SECRET_ACCESS_KEY=.*: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together/)
    expect(error.message.split('\n').filter((line) => line.startsWith('  '))).toHaveLength(5)
  })

  it('refuses a port above 65535, a zero size, a part below the S3 minimum and an unknown log level', () => {
    const { message } = configErrorFor({ PORT: '65536', MAX_UPLOAD_SIZE: '0', S3_BUCKET: 'uploads', S3_PART_SIZE: '1024', LOG_LEVEL: 'loud' })
    expect(message).toMatch(/PORT="65536": expected a port number \(0-65535\)/)
    expect(message).toMatch(/MAX_UPLOAD_SIZE="0": expected a size in bytes greater than 0/)
    expect(message).toMatch(/S3_PART_SIZE="1024": expected at least 5242880/)
    expect(message).toMatch(/LOG_LEVEL="loud": .*"silent"/)
  })

  it('refuses an S3 endpoint that is not an http(s) URL', () => {
    expect(configErrorFor({ S3_BUCKET: 'uploads', S3_ENDPOINT: 'ftp://minio:9000' }).message).toMatch(/S3_ENDPOINT="ftp:\/\/minio:9000": expected an http\(s\) URL/)
    expect(configErrorFor({ S3_BUCKET: 'uploads', S3_ENDPOINT: 'minio' }).message).toMatch(/S3_ENDPOINT="minio": expected an http\(s\) URL/)
  })

  it('asks for S3_BUCKET when other S3 variables are set without it', () => {
    expect(configErrorFor({ S3_ENDPOINT: 'http://127.0.0.1:9000' }).message).toMatch(/S3_BUCKET=.*set it to use S3 storage/)
  })

  it('never echoes a secret or a database password in the error', () => {
    const { message } = configErrorFor({ S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI', DATABASE_URL: 'mysql://admin:hunter2@db/files', PORT: 'abc' })
    expect(message).toMatch(/S3_SECRET_ACCESS_KEY=/)
    expect(message).toMatch(/DATABASE_URL=/)
    expect(message).not.toContain('wJalrXUtnFEMI')
    expect(message).not.toContain('hunter2')
  })

  it('returns a frozen configuration, nested settings included', () => {
    const config = loadConfig({ S3_BUCKET: 'uploads', S3_ACCESS_KEY_ID: 'AKIDEXAMPLE', S3_SECRET_ACCESS_KEY: 'secret', CORS_ORIGINS: 'https://a.example' })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.s3)).toBe(true)
    expect(Object.isFrozen(config.s3?.credentials)).toBe(true)
    expect(Object.isFrozen(config.corsOrigins)).toBe(true)
    expect(() => {
      ;(config as { port: number }).port = 1
    }).toThrow(TypeError)
    expect(config.port).toBe(1080)
  })
})

describe('loadConfig: authentication', () => {
  const secret = 'x'.repeat(32)
  it('runs as the one local user on loopback when nothing is configured', () => {
    expect(loadConfig({}).auth).toEqual({ mode: 'local', jwt: undefined })
    expect(loadConfig({ HOST: '::1' }).auth.mode).toBe('local')
  })

  it('refuses to bind beyond loopback without authentication, naming the ways out', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/HOST="0\.0\.0\.0": binding a non-loopback address without authentication: set JWT_SECRET or JWT_JWKS_URL .* or AUTH=none/)
    expect(loadConfig({ HOST: '0.0.0.0', AUTH: 'none' }).auth.mode).toBe('none')
    expect(loadConfig({ HOST: '0.0.0.0', AUTH: 'required' }).auth.mode).toBe('required')
  })

  it('requires authentication once a JWT key is configured', () => {
    expect(loadConfig({ HOST: '0.0.0.0', JWT_SECRET: secret, JWT_AUDIENCE: 'filedock' }).auth).toEqual({ mode: 'required', jwt: { secret, jwksUrl: undefined, issuer: undefined, audience: 'filedock' } })
    expect(() => loadConfig({ JWT_SECRET: secret, AUTH: 'none' })).toThrow(/AUTH=none would ignore them/)
  })

  it('gives download links 300 s and an instance key by default, and refuses a short shared key or more than a day', () => {
    expect(loadConfig({}).downloadLinks).toEqual({ secret: undefined, expirySeconds: 300 })
    expect(loadConfig({ DOWNLOAD_LINK_SECRET: 's'.repeat(32), DOWNLOAD_LINK_EXPIRY_SECONDS: '60' }).downloadLinks).toEqual({ secret: 's'.repeat(32), expirySeconds: 60 })
    const { message } = configErrorFor({ DOWNLOAD_LINK_SECRET: 'tiny-link-key', DOWNLOAD_LINK_EXPIRY_SECONDS: '86401' })
    expect(message).toMatch(/DOWNLOAD_LINK_SECRET="\[redacted\]": expected at least 32 characters/)
    expect(message).toMatch(/DOWNLOAD_LINK_EXPIRY_SECONDS="86401": expected at most 86400/)
    expect(message).not.toContain('tiny-link-key')
  })

  it('refuses a short JWT secret without printing it', () => {
    let message = ''
    try {
      loadConfig({ JWT_SECRET: 'short-secret' })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/JWT_SECRET="\[redacted\]": expected at least 32 characters/)
    expect(message).not.toContain('short-secret')
  })
})
