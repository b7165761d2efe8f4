/**
 * Section 2 (only with S3_BUCKET set): one upload to S3 through our server
 * (one PATCH, 8 MiB chunks) against a raw @aws-sdk/client-s3 multipart upload
 * of the same bytes to the same bucket, interleaved round by round.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createReadStream, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3'
import pg from 'pg'
import { CHUNK, cleanDir, measure, oursEnv, type Run } from './disk.ts'
import { tusUpload } from './lean-tus-client.ts'
import { procFacts, ROOT, startChild } from './proc.ts'

export type S3Run = Run & { storeCpuS: number }

const PARTS_IN_FLIGHT = 4

export function s3Client(): S3Client {
  const env = process.env
  return new S3Client({
    region: env.S3_REGION || 'us-east-1',
    endpoint: env.S3_ENDPOINT || undefined,
    forcePathStyle: true,
    credentials: env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

/** The local object store's processes (Swift here; MinIO would do), when it runs on this machine. */
function storePids(): number[] {
  const pids: number[] = []
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (/swift-|minio/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) pids.push(Number(pid))
    } catch {
      // the process is gone
    }
  }
  return pids
}

function cpuOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (procFacts(pid).cpuSeconds || 0), 0)
}

/** Raw SDK multipart upload: parts of `partSize` streamed from the file, PARTS_IN_FLIGHT at a time. */
async function rawMultipart(s3: S3Client, bucket: string, key: string, file: string, size: number, partSize: number): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
  const count = Math.ceil(size / partSize)
  const etags: string[] = new Array(count)
  let nextPart = 0
  const worker = async () => {
    while (nextPart < count) {
      const i = nextPart++
      const start = i * partSize
      const length = Math.min(partSize, size - start)
      const body = createReadStream(file, { start, end: start + length - 1, highWaterMark: 1024 * 1024 })
      const res = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body, ContentLength: length }))
      etags[i] = res.ETag as string
    }
  }
  try {
    await Promise.all(Array.from({ length: PARTS_IN_FLIGHT }, worker))
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }))
  } catch (error) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => {})
    throw error
  }
}

/** Removes what an upload left in the bucket: the object, tus's .info/.part, unfinished multipart uploads. */
async function removeKeys(s3: S3Client, bucket: string, key: string): Promise<void> {
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key })).catch(() => undefined)
  for (const u of listed?.Uploads ?? []) {
    if (u.Key === key) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: u.UploadId })).catch(() => {})
  }
  for (const k of [key, `${key}.info`, `${key}.part`]) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k })).catch(() => {})
}

/** A throwaway Postgres database when DATABASE_URL is set (else PGlite under DATA_DIR). */
async function throwawayDatabase(): Promise<{ url?: string; drop(): Promise<void> }> {
  const admin = process.env.DATABASE_URL
  if (!admin) return { drop: async () => {} }
  const name = `filedock_bench_${randomBytes(6).toString('hex')}`
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  await run(`create database ${name}`)
  const url = new URL(admin)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) }
}

export const S3_CONFIGS = ['raw-sdk', 'ours-1', 'ours-8'] as const

export async function runS3Section(opts: { file: string; size: number; partSize: number; rounds: number; workDir: string; log: (line: string) => void }): Promise<{ runs: S3Run[]; database: string }> {
  const bucket = process.env.S3_BUCKET as string
  const s3 = s3Client()
  const db = await throwawayDatabase()
  const runs: S3Run[] = []
  const store = storePids()
  const s3Env: Record<string, string> = { S3_PART_SIZE: String(opts.partSize), WORKER_CONCURRENCY: '0', ALLOWED_TYPES: '*', UPLOAD_RATE_LIMIT: '0' }
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('S3_') && v) s3Env[k] = v
  if (db.url) s3Env.DATABASE_URL = db.url
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      for (const config of S3_CONFIGS) {
        const dir = await mkdtemp(path.join(opts.workDir, `s3-${config}-`))
        let key = `filedock-bench/raw-${randomUUID()}`
        let storeCpuS = 0
        /** Times the object store's CPU over exactly the measured work. */
        const withStoreCpu = async (work: () => Promise<unknown>) => {
          const before = cpuOf(store)
          try {
            return await work()
          } finally {
            storeCpuS = cpuOf(store) - before
          }
        }
        let run: Run
        if (config === 'raw-sdk') {
          // The SDK runs in this process: its CPU is the client's, and there is no server process.
          const none = { peakRssMiB: Number.NaN, rssMiB: Number.NaN, cpuSeconds: 0 }
          const self = { name: 'raw-sdk', url: '', pid: process.pid, atStart: none, facts: () => none, stop: async () => none, output: () => '' }
          run = await measure(self, round, config, opts.size, () => withStoreCpu(() => rawMultipart(s3, bucket, key, opts.file, opts.size, opts.partSize)))
          run = { ...run, serverCpuS: Number.NaN }
        } else {
          const child = await startChild('ours-s3', path.join(ROOT, 'server/main.ts'), oursEnv(dir, s3Env))
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
          try {
            run = await measure(child, round, config, opts.size, () =>
              withStoreCpu(async () => {
                const chunk = config === 'ours-1' ? Number.POSITIVE_INFINITY : CHUNK
                const result = await tusUpload(`${child.url}/files`, opts.file, opts.size, chunk, agent)
                key = new URL(result.url).pathname.split('/').pop() as string
                return result
              }),
            )
          } finally {
            agent.destroy()
            await child.stop()
          }
        }
        const r: S3Run = { ...run, storeCpuS, othersCpuS: Math.max(0, run.othersCpuS - storeCpuS) }
        runs.push(r)
        await removeKeys(s3, bucket, key)
        await cleanDir(dir)
        opts.log(`  s3 round ${round} ${config.padEnd(7)} ${r.error ? `ERROR ${r.error}` : `${r.mibps.toFixed(0)} MiB/s`}  peak RSS ${r.peakRssMiB.toFixed(0)} MiB  server CPU ${r.serverCpuS.toFixed(1)} s  client CPU ${r.clientCpuS.toFixed(1)} s  store CPU ${r.storeCpuS.toFixed(1)} s`)
      }
    }
  } finally {
    s3.destroy()
    await db.drop().catch(() => {})
  }
  return { runs, database: db.url ? 'Postgres (throwaway database on DATABASE_URL)' : 'PGlite' }
}
