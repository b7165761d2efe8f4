/** Small numeric helpers for the benchmark: medians, percentiles, formatting. */

export const MiB = 1024 * 1024

/** Median; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Nearest-rank percentile (p in 0..100); NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length === 0) return Number.NaN
  const sorted = [...finite].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values)
}

export function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
}

/** "2.35 (aim >= 0.9: met)" style annotation; aims are targets, never assertions. */
export function aim(value: number, op: '>=' | '<', target: number, digits = 2, unit = ''): string {
  const shown = `${fmt(value, digits)}${unit}`
  if (!Number.isFinite(value)) return `${shown} (aim ${op} ${target}${unit})`
  const met = op === '>=' ? value >= target : value < target
  return `${shown} (aim ${op} ${target}${unit}: ${met ? 'met' : 'MISSED'})`
}

export function list(values: readonly number[], digits = 0): string {
  return values.map((v) => fmt(v, digits)).join(', ')
}
