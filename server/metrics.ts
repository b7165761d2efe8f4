/**
 * Prometheus metrics (GET /metrics). One registry per server instance, so
 * servers started side by side in one process (the tests) do not collide.
 * Counting happens at the edges (requests answered, uploads created and
 * finished); nothing is added to the per-chunk path.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export type Metrics = ReturnType<typeof createMetrics>

export type JobOutcome = 'ready' | 'failed' | 'retry' | 'released' | 'lost'

export function createMetrics(options: { activeLocks: () => number; defaultMetrics?: boolean }) {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'filedock_' })

  const tusRequests = new Counter({
    name: 'filedock_tus_requests_total',
    help: 'tus requests answered, by method and status code',
    labelNames: ['method', 'status'] as const,
    registers: [registry],
  })
  const tusDuration = new Histogram({
    name: 'filedock_tus_request_duration_seconds',
    help: 'time to answer tus requests, by method',
    labelNames: ['method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [registry],
  })
  const patchesInFlight = new Gauge({ name: 'filedock_tus_patches_in_flight', help: 'PATCH requests currently streaming', registers: [registry] })
  const uploadsCreated = new Counter({ name: 'filedock_uploads_created_total', help: 'uploads created', registers: [registry] })
  const uploadsFinished = new Counter({ name: 'filedock_uploads_finished_total', help: 'uploads whose last byte was stored', registers: [registry] })
  const bytesFinished = new Counter({ name: 'filedock_uploaded_bytes_total', help: 'bytes of finished uploads', registers: [registry] })
  const uploadsExpired = new Counter({ name: 'filedock_uploads_expired_total', help: 'unfinished uploads removed after expiry', registers: [registry] })
  const jobs = new Counter({
    name: 'filedock_jobs_total',
    help: 'processing jobs ended, by outcome: ready, failed (the file), retry (requeued), released (shutdown), lost (lease taken over)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const jobDuration = new Histogram({
    name: 'filedock_job_duration_seconds',
    help: 'time from claiming a job to storing its outcome, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  })
  new Gauge({
    name: 'filedock_upload_locks_held',
    help: 'uploads locked by a request right now',
    registers: [registry],
    collect() {
      this.set(options.activeLocks())
    },
  })

  return {
    registry,
    /** Call when a tus request starts; the returned function when it is answered or dropped. */
    tusRequestStarted(method: string): (status: number) => void {
      const stop = tusDuration.startTimer({ method })
      if (method === 'PATCH') patchesInFlight.inc()
      let done = false
      return (status) => {
        if (done) return
        done = true
        stop()
        tusRequests.inc({ method, status: String(status) })
        if (method === 'PATCH') patchesInFlight.dec()
      }
    },
    uploadCreated: () => uploadsCreated.inc(),
    uploadFinished: (size: number) => {
      uploadsFinished.inc()
      bytesFinished.inc(size)
    },
    uploadsExpired: (n: number) => uploadsExpired.inc(n),
    jobEnded: (outcome: JobOutcome, seconds: number) => {
      jobs.inc({ outcome })
      jobDuration.observe({ outcome }, seconds)
    },
  }
}
