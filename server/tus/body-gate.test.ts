import { describe, expect, it } from 'vitest'
import { BodyGate } from './body-gate.ts'

describe('BodyGate', () => {
  it('gives slots at once while there are free ones, then queues first in, first out', async () => {
    const gate = new BodyGate(2)
    const [a, b, c, d] = [{ lastActivity: 0 }, { lastActivity: 0 }, { lastActivity: 0 }, { lastActivity: 0 }]
    expect(gate.acquire(a)).toBeUndefined()
    expect(gate.acquire(b)).toBeUndefined()
    const order: string[] = []
    const waitC = gate.acquire(c)?.then(() => order.push('c'))
    const waitD = gate.acquire(d)?.then(() => order.push('d'))
    expect(gate.waiting).toBe(2)
    gate.release(a)
    gate.release(b)
    await Promise.all([waitC, waitD])
    expect(order).toEqual(['c', 'd'])
    expect(gate.holds(c) && gate.holds(d)).toBe(true)
    expect(gate.holds(a)).toBe(false)
  })

  it('takes the slot from a holder that went quiet when another body waits', async () => {
    const gate = new BodyGate(1, 4 * 1024 * 1024, 20)
    const quiet = { lastActivity: 0 }
    const eager = { lastActivity: 0 }
    gate.acquire(quiet)
    const waited = gate.acquire(eager)
    expect(waited).toBeInstanceOf(Promise)
    await waited
    expect(gate.holds(eager)).toBe(true)
    expect(gate.holds(quiet)).toBe(false)
    gate.release(eager)
  })

  it('ignores a release from a body that holds no slot', () => {
    const gate = new BodyGate(1)
    const a = { lastActivity: 0 }
    const stranger = { lastActivity: 0 }
    gate.acquire(a)
    gate.release(stranger)
    expect(gate.holds(a)).toBe(true)
    expect(gate.acquire(stranger)).toBeInstanceOf(Promise)
  })
})
