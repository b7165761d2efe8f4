/**
 * Counts a column's distinct values by 32-bit hash: exactly (collisions
 * negligible) up to 4,096 values, then as a HyperLogLog estimate (2,048
 * registers, about +/-2.5%).
 *
 * The counter is three fields of the caller's own object (the column state),
 * not an object of its own: one less indirection per cell.
 */

const EXACT_DISTINCT_LIMIT = 4096
const SKETCH_BITS = 11

export type DistinctCounter = {
  /** Open-addressing set of value hashes (0 = empty slot) while counting exactly, then null. */
  hashes: Int32Array | null
  distinct: number
  sketch: Uint8Array | null
}

/** The starting hash table of a DistinctCounter: `{ hashes: newHashTable(), distinct: 0, sketch: null }`. */
export function newHashTable(): Int32Array {
  return new Int32Array(64)
}

/** A hash table of our own: a JS Set of numbers costs about twice as much per add. */
export function countDistinct(counter: DistinctCounter, value: string): void {
  const hash = hashString(value) || 1
  const table = counter.hashes
  if (table === null) return addToSketch(counter.sketch as Uint8Array, hash)
  const mask = table.length - 1
  let slot = hash & mask
  for (let seen = table[slot] as number; seen !== 0; seen = table[slot] as number) {
    if (seen === hash) return
    slot = (slot + 1) & mask
  }
  table[slot] = hash
  if (++counter.distinct * 2 > table.length) growHashes(counter, table)
}

export function distinctCount(counter: DistinctCounter): number {
  if (counter.hashes !== null) return counter.distinct
  const sketch = counter.sketch as Uint8Array
  const m = sketch.length
  let sum = 0
  let zeros = 0
  for (const register of sketch) {
    sum += 2 ** -register
    if (register === 0) zeros++
  }
  const estimate = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum
  // Linear counting is the more accurate of the two for small cardinalities.
  return Math.round(estimate <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : estimate)
}

function growHashes(counter: DistinctCounter, old: Int32Array): void {
  if (counter.distinct > EXACT_DISTINCT_LIMIT) {
    const sketch = new Uint8Array(1 << SKETCH_BITS)
    for (const hash of old) if (hash !== 0) addToSketch(sketch, hash)
    counter.hashes = null
    counter.sketch = sketch
    return
  }
  const table = new Int32Array(old.length * 2)
  const mask = table.length - 1
  for (const hash of old) {
    if (hash === 0) continue
    let slot = hash & mask
    while (table[slot] !== 0) slot = (slot + 1) & mask
    table[slot] = hash
  }
  counter.hashes = table
}

function addToSketch(sketch: Uint8Array, hash: number): void {
  const index = hash >>> (32 - SKETCH_BITS)
  const rank = Math.min(Math.clz32((hash << SKETCH_BITS) >>> 0), 32 - SKETCH_BITS) + 1
  if (rank > (sketch[index] as number)) sketch[index] = rank
}

/** FNV-1a with murmur3's finaliser, which spreads the bits well enough for HyperLogLog. */
function hashString(value: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  // Signed 32-bit: a small integer (Smi) to V8, never a heap number.
  return h ^ (h >>> 16)
}
