import {describe, expect, it} from 'vitest'
import {fastRandomizer} from '../../src/catalogue/prng.js'

describe('fastRandomizer (faker’s randomizer)', () => {
  it('draws floats in [0, 1), the same after the same seed, different after another', () => {
    const r = fastRandomizer()
    const draws = (seed: number | number[]) => {
      r.seed(seed)
      return Array.from({length: 5}, () => r.next())
    }
    const a = draws(42)
    expect(draws(42)).toEqual(a)
    expect(draws(43)).not.toEqual(a)
    expect(draws([42, 1])).toEqual(draws([42, 1]))
    expect(draws([42, 1])).not.toEqual(draws([42, 2]))
  })

  it('spreads its draws evenly over [0, 1)', () => {
    const r = fastRandomizer(7)
    const buckets = new Array(10).fill(0)
    const n = 100_000
    for (let i = 0; i < n; i++) {
      const x = r.next()
      expect(x >= 0 && x < 1).toBe(true)
      buckets[Math.floor(x * 10)]++
    }
    // Each tenth within 5% of its share (a fair generator is well inside that at this size).
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan(n / 200)
  })
})
