/**
 * Upload creations per user per minute, as a token bucket per user in this
 * process: each instance counts its own (behind a load balancer the limit is
 * per instance). Answered 429 with Retry-After, which tus clients honour.
 */
export type RateLimiter = (userId: string) => { ok: true } | { ok: false; retryAfterSeconds: number }

export function createRateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const refillPerMs = perMinute / 60_000
  return (userId) => {
    const t = now()
    const bucket = buckets.get(userId) ?? { tokens: perMinute, at: t }
    bucket.tokens = Math.min(perMinute, bucket.tokens + (t - bucket.at) * refillPerMs)
    bucket.at = t
    buckets.set(userId, bucket)
    // A bucket that has refilled is the same as no bucket: drop those when the map grows.
    if (buckets.size > 10_000) for (const [key, b] of buckets) if (b.tokens + (t - b.at) * refillPerMs >= perMinute) buckets.delete(key)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)) }
  }
}
