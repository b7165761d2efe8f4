/**
 * The processing worker: `concurrency` loops that each claim a due job,
 * process the file, and store the outcome, all in the database so any number
 * of server instances can run workers side by side.
 *
 * - A claim holds a lease, renewed every third of its length while the job
 *   runs; a worker that dies stops renewing and another takes the job over.
 *   Losing the lease (taken over, or the file was deleted) aborts the job.
 * - Retryable failures go back to the queue with exponential backoff, up to
 *   maxAttempts; the file's own failures are final at once.
 * - Idle loops sleep until told of a new job (FileEvents) or a poll interval.
 */
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import * as files from '../db/file.repository.ts'
import * as fileText from '../db/file-text.repository.ts'
import * as jobs from '../db/job.repository.ts'
import type { Database } from '../db/schema.ts'
import type { JobOutcome, Metrics } from '../metrics.ts'
import type { FileEvents } from './file-events.ts'
import { ParseFailure } from './parse-process.ts'
import { type ProcessDeps, type Processed, processFile } from './process-file.ts'

export type WorkerDeps = ProcessDeps & { events: FileEvents; metrics?: Pick<Metrics, 'jobEnded'>; pollMs?: number; retryBaseMs?: number }

export type Worker = { close(): Promise<void> }

class LeaseLost extends Error {
  override name = 'LeaseLost'
}

const SHUTDOWN = 'worker shutting down'

export function startWorker(deps: WorkerDeps): Worker {
  const { db, log, events, config } = deps
  const pollMs = deps.pollMs ?? 2000
  const running = new Set<AbortController>()
  let closed = false
  const sleepers = new Set<() => void>()
  // Counts wake-ups, so a loop whose claim raced with one does not go to sleep on it.
  let wakeups = 0
  const wakeAll = () => {
    wakeups++
    for (const w of sleepers) w()
  }
  // Any change may be a new job (an upload finished here or on another instance).
  const unsubscribe = events.subscribeAll(wakeAll)

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        sleepers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      sleepers.add(done)
    })

  /**
   * Claims the next job and marks its file processing. A job claimed more
   * than maxAttempts times was taken over from workers that died on it every
   * time (a file that kills the server?): it ends here, unprocessed.
   */
  async function claim(): Promise<jobs.ClaimedJob | undefined> {
    const { job, gaveUp } = await db.transaction().execute(async (trx) => {
      const claimed = await jobs.claimNextJob(trx, config.leaseMs)
      if (!claimed) return { job: undefined, gaveUp: undefined }
      await files.markProcessing(trx, claimed.fileId)
      if (claimed.attempts <= config.maxAttempts) return { job: claimed, gaveUp: undefined }
      const error = { code: 'worker_died', message: `the worker processing this file stopped ${claimed.attempts - 1} times without finishing; it was not tried again` }
      await jobs.finishJob(trx, claimed, { status: 'failed', error: `${error.code}: ${error.message}` })
      await files.finishProcessing(trx, claimed.fileId, { status: 'failed', error })
      return { job: undefined, gaveUp: claimed }
    })
    if (gaveUp) {
      log.warn({ uploadId: gaveUp.fileId, attempts: gaveUp.attempts }, 'job.failed')
      events.changed(gaveUp.fileId)
    }
    return job
  }

  /** Until the next queued job falls due (a retry's backoff), at most pollMs. */
  async function idleFor(): Promise<number> {
    const due = await jobs.nextJobDueAt(db).catch(() => undefined)
    return due ? Math.min(pollMs, Math.max(50, due.getTime() - Date.now())) : pollMs
  }

  async function loop(): Promise<void> {
    while (!closed) {
      const seen = wakeups
      let job: jobs.ClaimedJob | undefined
      try {
        job = await claim()
      } catch (err) {
        log.warn({ err }, 'job.claim_failed')
      }
      if (!job) {
        if (seen === wakeups) await sleep(await idleFor())
        continue
      }
      if (closed) {
        // Claimed while shutting down: back to the queue for this or another instance, not held against the file.
        await jobs.requeueJob(db, job, { delayMs: 0, countAttempt: false }).catch((err: unknown) => log.warn({ err, uploadId: job.fileId }, 'job.release_failed'))
        break
      }
      events.changed(job.fileId)
      await runJob(deps, job, running).catch((err: unknown) => log.error({ err, uploadId: job.fileId }, 'job.store_failed'))
      events.changed(job.fileId)
    }
  }

  const loops = Array.from({ length: config.concurrency }, () => loop())
  return {
    async close() {
      closed = true
      unsubscribe()
      wakeAll()
      for (const controller of running) controller.abort(new Error(SHUTDOWN))
      await Promise.all(loops)
    },
  }
}

async function runJob(deps: WorkerDeps, job: jobs.ClaimedJob, running: Set<AbortController>): Promise<void> {
  const { db, log, config } = deps
  const jobLog = log.child({ uploadId: job.fileId, attempt: job.attempts })
  const controller = new AbortController()
  running.add(controller)
  const heartbeat = setInterval(() => {
    jobs.renewLease(db, job, config.leaseMs).then(
      (held) => held || controller.abort(new LeaseLost('the job was taken over or the file deleted')),
      (err: unknown) => jobLog.warn({ err }, 'job.lease_renew_failed'),
    )
  }, Math.max(100, Math.floor(config.leaseMs / 3)))
  const started = performance.now()
  jobLog.info('job.started')
  let outcome: JobOutcome = 'ready'
  try {
    const processed = await processFile(deps, job.fileId, controller.signal)
    const parsedAt = performance.now()
    if (processed) await storeReady(db, job, processed)
    const done = performance.now()
    jobLog.info({ ms: Math.round(done - started), parseMs: Math.round(parsedAt - started), storeMs: Math.round(done - parsedAt) }, 'job.done')
  } catch (error) {
    outcome = await handleFailure(deps, job, error, controller.signal, jobLog)
  } finally {
    clearInterval(heartbeat)
    running.delete(controller)
    deps.metrics?.jobEnded(outcome, (performance.now() - started) / 1000)
  }
}

async function storeReady(db: Kysely<Database>, job: jobs.ClaimedJob, processed: Processed): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await jobs.finishJob(trx, job, { status: 'done' }))) throw new LeaseLost('the job was taken over or the file deleted')
    await files.finishProcessing(trx, job.fileId, { status: 'ready', metadata: processed.metadata, description: processed.description })
    await fileText.replaceFileText(trx, job.fileId, processed.sections)
  })
}

/**
 * A failure outside the parser (database, storage). A data error (SQLSTATE
 * class 22: a value the database will not store) comes back on every try, so
 * it is final; anything else may pass.
 */
function serverFailure(error: unknown): ParseFailure {
  const sqlState = (error as { code?: unknown } | null)?.code
  if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    return new ParseFailure('unstorable_facts', 'the facts read from this file could not be stored', false, { cause: error })
  }
  return new ParseFailure('processing_failed', 'processing failed for a reason on the server side', true, { cause: error })
}

/** Stores what a failure means for the job and the file; returns how the job ended. */
async function handleFailure(deps: WorkerDeps, job: jobs.ClaimedJob, error: unknown, signal: AbortSignal, jobLog: Logger): Promise<JobOutcome> {
  const { db, config } = deps
  if (error instanceof LeaseLost || signal.reason instanceof LeaseLost) {
    jobLog.warn('job.lease_lost')
    return 'lost'
  }
  if (signal.aborted && (signal.reason as Error | undefined)?.message === SHUTDOWN) {
    // Not the job's fault: back in the queue at once, for this or another instance.
    await jobs.requeueJob(db, job, { delayMs: 0, countAttempt: false })
    jobLog.info('job.released')
    return 'released'
  }
  const failure = error instanceof ParseFailure ? error : serverFailure(error)
  if (failure.retryable && job.attempts < config.maxAttempts) {
    const base = deps.retryBaseMs ?? 1000
    const delayMs = Math.round(Math.min(60_000, base * 2 ** (job.attempts - 1)) * (0.75 + Math.random() / 2))
    if (!(await jobs.requeueJob(db, job, { delayMs, error: `${failure.code}: ${failure.message}` }))) return 'lost'
    jobLog.warn({ err: error, code: failure.code, delayMs }, 'job.retry')
    return 'retry'
  }
  const message = failure.retryable ? `${failure.message} (gave up after ${job.attempts} attempts)` : failure.message
  const stored = await db.transaction().execute(async (trx) => {
    if (!(await jobs.finishJob(trx, job, { status: 'failed', error: `${failure.code}: ${message}` }))) return false
    await files.finishProcessing(trx, job.fileId, { status: 'failed', error: { code: failure.code, message } })
    return true
  })
  if (!stored) return 'lost'
  jobLog.info({ code: failure.code, reason: message }, 'job.failed')
  return 'failed'
}
