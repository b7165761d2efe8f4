import { describe, expect, it } from 'vitest'
import { isNullValue } from './classify-value.ts'
import { createColumnProfiler, FULL_PROFILE_ROWS, MAX_PROFILED_COLUMNS } from './column-profile.ts'
import { looksLikeHeader, nameColumns } from './table-header.ts'

function profile(rows: string[][], names: string[] = nameColumns(undefined, Math.max(0, ...rows.map((r) => r.length)))) {
  const profiler = createColumnProfiler()
  for (const row of rows) profiler.addRow(row)
  return { ...profiler.finish(names), rows: profiler.rowCount(), columns: profiler.columnCount() }
}

function column(values: string[]) {
  return profile(values.map((v) => [v])).columnFacts[0]!
}

describe('createColumnProfiler', () => {
  it('infers integers with min, max, mean, nulls and samples', () => {
    expect(column(['3', '-1', '', '10', 'NA', '3'])).toEqual({
      name: 'column_1', type: 'integer', nulls: 2, min: -1, max: 10, mean: 15 / 4, distinct: 3, samples: ['3', '-1', '10'],
    })
  })

  it('widens integers and decimals to number, computing exact values', () => {
    const facts = column(['1', '2.5', '-0.125', '1e3', ' 4 '])
    expect(facts).toMatchObject({ type: 'number', min: -0.125, max: 1000 })
    expect(facts.mean).toBeCloseTo((1 + 2.5 - 0.125 + 1000 + 4) / 5, 10)
    expect(column(['0.1', '0.2']).mean).toBe((0.1 + 0.2) / 2)
  })

  it('counts the usual spellings of a missing value as nulls', () => {
    const nulls = ['', ' ', 'NA', 'n/a', 'N/A', 'NULL', 'null', 'NaN', 'None', '-', '--', '#N/A', 'nil', '?']
    expect(column([...nulls, '5'])).toMatchObject({ type: 'integer', nulls: nulls.length, min: 5, max: 5 })
    expect(nulls.every(isNullValue)).toBe(true)
    expect(['0', 'Nancy', 'no', '-5', 'unknown value'].some(isNullValue)).toBe(false)
  })

  it('reads codes with leading zeros as text, not numbers', () => {
    expect(column(['02134', '10001', '00501'])).toMatchObject({ type: 'text' })
    expect(column(['02134', '10001']).min).toBeUndefined()
  })

  it('falls back to text when kinds mix, dropping number stats', () => {
    const facts = column(['1', '2', 'three'])
    expect(facts.type).toBe('text')
    expect(facts.min).toBeUndefined()
    expect(column(['true', '1']).type).toBe('text')
    expect(column(['2024-01-01', '5']).type).toBe('text')
  })

  it('infers booleans in any case, and empty for all-null columns', () => {
    expect(column(['true', 'FALSE', 'Yes', 'no'])).toMatchObject({ type: 'boolean', distinct: 4 })
    expect(column(['', 'NA', 'null'])).toEqual({ name: 'column_1', type: 'empty', nulls: 3, distinct: 0, samples: [] })
  })

  it('infers ISO dates and datetimes, earliest and latest in UTC', () => {
    expect(column(['2024-03-01', '2023-12-31', '2024-02-29'])).toMatchObject({ type: 'date', earliest: '2023-12-31', latest: '2024-03-01' })
    expect(column(['2024-01-01T10:00:00+02:00', '2024-01-01 09:30:00Z', '2024-01-01T08:15:30.5Z'])).toMatchObject({
      type: 'date', earliest: '2024-01-01T08:00:00.000Z', latest: '2024-01-01T09:30:00.000Z',
    })
    expect(column(['2024-02-30']).type).toBe('text') // no such day
    expect(column(['0099-01-01']).earliest).toBe('0099-01-01')
  })

  it('reads slash dates as day first once a day over 12 settles it', () => {
    expect(column(['01/02/2024', '25/12/2023', '3/4/2024'])).toMatchObject({ type: 'date', earliest: '2023-12-25', latest: '2024-04-03' })
  })

  it('reads slash dates as month first once a day over 12 settles it', () => {
    expect(column(['01/02/2024', '12/25/2023', '3/4/2024'])).toMatchObject({ type: 'date', earliest: '2023-12-25', latest: '2024-03-04' })
  })

  it('leaves slash dates as text while the order is ambiguous or contradictory', () => {
    expect(column(['01/02/2024', '03/04/2024']).type).toBe('text')
    expect(column(['25/12/2023', '12/25/2023']).type).toBe('text')
    expect(column(['31.12.2023', '1.1.2024'])).toMatchObject({ type: 'date', earliest: '2023-12-31', latest: '2024-01-01' })
  })

  it('keeps at most 5 distinct samples of at most 80 characters', () => {
    const long = 'x'.repeat(200)
    const facts = column(['a', 'a', 'b', long, 'c', 'd', 'e', 'f'])
    expect(facts.samples).toEqual(['a', 'b', `${'x'.repeat(79)}…`, 'c', 'd'])
    expect(facts.samples.every((s) => s.length <= 80)).toBe(true)
  })

  it('counts distinct values exactly up to 4096 and estimates within 5% beyond', () => {
    const few = Array.from({ length: 9000 }, (_, i) => `v${i % 4000}`)
    expect(column(few).distinct).toBe(4000)
    const unique = Math.min(FULL_PROFILE_ROWS, 9000) // every row profiled, all distinct
    const many = Array.from({ length: unique }, (_, i) => `id-${i}`)
    const estimate = column(many).distinct!
    expect(Math.abs(estimate - unique) / unique).toBeLessThan(0.05)
  })

  it('profiles every row up to FULL_PROFILE_ROWS (10,000) then every 10th, keeping the row count exact and scaling nulls', () => {
    // Nulls: every 7th row of the first FULL_PROFILE_ROWS, then every 4th block of 10 rows (a quarter of the sampled rows).
    const rows = Array.from({ length: FULL_PROFILE_ROWS + 20_000 }, (_, i) => {
      const missing = i < FULL_PROFILE_ROWS ? i % 7 === 0 : Math.floor(i / 10) % 4 === 0
      return [missing ? '' : String(i), 'x']
    })
    const result = profile(rows)
    expect(result.rows).toBe(FULL_PROFILE_ROWS + 20_000)
    expect(result.sampled).toBe(true)
    expect(result.columnFacts[0]!.nulls).toBe(Math.ceil(FULL_PROFILE_ROWS / 7) + 5000) // counted, then 500 of 2,000 sampled rows x 10
    expect(result.columnFacts[0]!.max).toBe(FULL_PROFILE_ROWS + 19_990) // the last profiled row (every 10th)
    expect(profile(rows.slice(0, 100)).sampled).toBe(false)
  })

  it('counts nulls exactly when every row is profiled', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [i % 3 === 0 ? 'NA' : String(i)])
    expect(profile(rows).columnFacts[0]!.nulls).toBe(334)
  })

  it('counts cells missing from short rows and earlier rows of late columns as nulls', () => {
    const result = profile([['1'], ['2', 'a'], ['3', 'b', 'x'], ['4']])
    expect(result.columns).toBe(3)
    expect(result.columnFacts.map((c) => c.nulls)).toEqual([0, 2, 3])
  })

  it('pads facts to the names given and caps profiled columns', () => {
    expect(profile([['1']], ['a', 'b']).columnFacts.map((c) => [c.name, c.type, c.nulls])).toEqual([['a', 'integer', 0], ['b', 'empty', 1]])
    const wide = profile([Array.from({ length: MAX_PROFILED_COLUMNS + 5 }, () => '1')])
    expect(wide.columns).toBe(MAX_PROFILED_COLUMNS + 5)
    expect(wide.columnFacts).toHaveLength(MAX_PROFILED_COLUMNS)
  })
})

describe('nameColumns', () => {
  it('trims names, names blanks by position and makes duplicates unique', () => {
    expect(nameColumns([' id ', '', 'name', 'name', 'column_2', 'name'], 7)).toEqual(['id', 'column_2', 'name', 'name_2', 'column_2_2', 'name_3', 'column_7'])
  })

  it('names columns by position without a header, and keeps hostile names as plain strings', () => {
    expect(nameColumns(undefined, 3)).toEqual(['column_1', 'column_2', 'column_3'])
    const names = nameColumns(['__proto__', 'constructor', '__proto__'], 3)
    expect(names).toEqual(['__proto__', 'constructor', '__proto___2'])
    expect(Object.keys(Object.prototype)).toEqual([])
  })
})

describe('looksLikeHeader', () => {
  it('accepts names above columns of numbers, dates or booleans', () => {
    expect(looksLikeHeader(['id', 'when', 'ok'], [['1', '2024-01-01', 'true'], ['2', '2024-01-02', 'false']])).toBe(true)
  })

  it('rejects a first row holding numbers or dates', () => {
    expect(looksLikeHeader(['1', '2', '3'], [['4', '5', '6']])).toBe(false)
    expect(looksLikeHeader(['name', '2024-01-01'], [['a', '2024-01-02']])).toBe(false)
  })

  it('accepts a blank name (an index column) but not an all-blank row', () => {
    expect(looksLikeHeader(['', 'value'], [['0', '1.5']])).toBe(true)
    expect(looksLikeHeader(['', ''], [['0', '1.5']])).toBe(false)
  })

  it('decides all-text tables by whether a name reappears in its column', () => {
    expect(looksLikeHeader(['city', 'country'], [['Paris', 'France'], ['Lyon', 'France']])).toBe(true)
    expect(looksLikeHeader(['Paris', 'France'], [['Lyon', 'France'], ['Nice', 'France']])).toBe(false)
  })
})
