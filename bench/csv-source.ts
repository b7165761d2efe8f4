/**
 * The pipeline section's input: an orders export of 20 columns as people
 * upload them (integers, decimals, ISO dates and times, short text, quoted
 * names and notes with commas and doubled quotes, a few empty cells, some
 * non-ASCII), from a seeded generator so every run parses the same bytes.
 */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'

export type CsvSource = { file: string; bytes: number; rows: number; columns: number }

const HEADER = 'id,customer_id,order_date,shipped_at,quantity,unit_price,amount,tax,discount,currency,country,city,customer_name,product,category,status,rating,latitude,longitude,notes'
const COLUMNS = HEADER.split(',').length
const BLOCK_CHARS = 1024 * 1024

const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'JPY']
const PLACES = [['DE', 'Berlin'], ['FR', 'Paris'], ['BR', 'São Paulo'], ['US', 'New York'], ['JP', 'Tokyo'], ['NG', 'Lagos'], ['CH', 'Zürich'], ['GB', 'Leeds'], ['ES', 'Málaga'], ['IN', 'Pune']] as const
const FIRST = ['Anna', 'Jonas', 'Léa', 'Kenji', 'Amara', 'Lucas', 'Sofia', 'Ravi', 'Emma', 'Noah']
const LAST = ['Müller', 'Smith', 'Dubois', 'Tanaka', 'Okafor', 'Silva', 'García', 'Patel', 'Brown', 'Rossi']
const PRODUCTS = [['USB-C cable 2m', 'accessories'], ['Desk lamp', 'home'], ['Notebook A5', 'office'], ['Running shoes', 'sport'], ['Coffee beans 1kg', 'grocery'], ['Headphones', 'audio'], ['Backpack 30l', 'travel'], ['Water bottle', 'sport']] as const
const STATUSES = ['delivered', 'delivered', 'delivered', 'shipped', 'pending', 'returned']
const NOTES = ['', '', '', '', '', 'gift wrap', '"Left at the door, rang twice"', '"Customer said ""urgent"", call first"', 'fragile', '"Deliver after 5pm, not before"']

/** mulberry32: small, fast and seeded, so the file is the same in every run. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Every calendar day 2020-2025 as YYYY-MM-DD, computed once rather than a Date per row. */
const DAYS = Array.from({ length: 6 * 365 }, (_, i) => new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10))

function rowMaker(seed: number): (id: number) => string {
  const r = random(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const pad = (n: number) => (n < 10 ? `0${n}` : String(n))
  return (id) => {
    const day = Math.floor(r() * (DAYS.length - 10))
    const status = pick(STATUSES)
    const shipped = status === 'pending' ? '' : `${DAYS[day + 1 + Math.floor(r() * 5)]}T${pad(Math.floor(r() * 24))}:${pad(Math.floor(r() * 60))}:${pad(Math.floor(r() * 60))}Z`
    const quantity = 1 + Math.floor(r() * 12)
    const unit = 0.5 + r() * 300
    const amount = quantity * unit
    const [country, city] = pick(PLACES)
    const [product, category] = pick(PRODUCTS)
    const discount = r() < 0.1 ? '' : (amount * r() * 0.2).toFixed(2)
    const rating = r() < 0.05 ? '' : String(1 + Math.floor(r() * 5))
    return `${id},${100000 + Math.floor(r() * 900000)},${DAYS[day]},${shipped},${quantity},${unit.toFixed(2)},${amount.toFixed(2)},${(amount * 0.19).toFixed(2)},${discount},${pick(CURRENCIES)},${country},${city},"${pick(LAST)}, ${pick(FIRST)}",${product},${category},${status},${rating},${(r() * 180 - 90).toFixed(6)},${(r() * 360 - 180).toFixed(6)},${pick(NOTES)}\n`
  }
}

/** Writes whole rows (header first) until at least `targetBytes`, streamed in ~1 MiB blocks. */
export async function writeCsv(file: string, targetBytes: number, seed = 1): Promise<CsvSource> {
  const out = createWriteStream(file)
  const nextRow = rowMaker(seed)
  let block = `${HEADER}\n`
  let bytes = Buffer.byteLength(block)
  let rows = 0
  try {
    while (bytes < targetBytes) {
      const row = nextRow(++rows)
      block += row
      bytes += Buffer.byteLength(row)
      if (block.length < BLOCK_CHARS) continue
      const flushed = out.write(block)
      block = ''
      if (!flushed) await once(out, 'drain')
    }
    out.end(block)
    await once(out, 'finish')
  } finally {
    out.destroy()
  }
  return { file, bytes, rows, columns: COLUMNS }
}
