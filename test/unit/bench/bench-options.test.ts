import {describe, expect, it} from 'vitest'
import {validateBenchOptions, validateExpectations} from '../../../src/bench/options.js'
import {splitCount} from '../../../src/bench/run.js'
import {UsageError} from '../../../src/errors.js'

function usageError(fn: () => unknown): UsageError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return err as UsageError
  }
  throw new Error('expected a UsageError')
}

describe('validateBenchOptions', () => {
  it('fills the defaults and runs 10 s when neither --count nor --duration is given', () => {
    const o = validateBenchOptions({})
    expect(o).toMatchObject({
      producers: 1,
      consumers: 1,
      rate: 0,
      size: 1000,
      confirm: 0,
      prefetch: 1000,
      multiAck: 100,
    })
    expect(o.durationSeconds).toBe(10)
    expect(o.count).toBeUndefined()
  })

  it('keeps --count and drops the default duration', () => {
    const o = validateBenchOptions({count: 5000})
    expect(o.count).toBe(5000)
    expect(o.durationSeconds).toBeUndefined()
  })

  it('rejects --count with --duration', () => {
    expect(usageError(() => validateBenchOptions({count: 10, durationSeconds: 5})).message).toMatch(
      /cannot be used together/,
    )
  })

  it('rejects a multi-ack larger than the prefetch (the prefetch(1) deadlock) with exit 2', () => {
    const err = usageError(() => validateBenchOptions({prefetch: 1, multiAck: 100}))
    expect(err.exitCode).toBe(2)
    expect(err.message).toMatch(/--multi-ack 100 is larger than --prefetch 1/)
    // unlimited prefetch cannot deadlock
    expect(validateBenchOptions({prefetch: 0, multiAck: 500}).multiAck).toBe(500)
    expect(validateBenchOptions({prefetch: 100, multiAck: 100}).multiAck).toBe(100)
  })

  it('rejects bodies too small for the timestamp, negative rates and windows, and zero producers', () => {
    expect(usageError(() => validateBenchOptions({size: 7})).message).toMatch(/--size/)
    expect(usageError(() => validateBenchOptions({rate: -1})).message).toMatch(/--rate/)
    expect(usageError(() => validateBenchOptions({confirm: -5})).message).toMatch(/--confirm/)
    expect(usageError(() => validateBenchOptions({producers: 0})).message).toMatch(/--producers/)
    expect(usageError(() => validateBenchOptions({count: 2, producers: 3})).message).toMatch(/less than --producers/)
    expect(usageError(() => validateBenchOptions({durationSeconds: 0})).message).toMatch(/--duration/)
    expect(usageError(() => validateBenchOptions({multiAck: 0})).message).toMatch(/--multi-ack/)
  })

  it('rejects unknown queue and exchange types', () => {
    expect(() => validateBenchOptions({queueType: 'stream' as never})).toThrow(/queue-type/)
    expect(() => validateBenchOptions({exchangeType: 'x-delayed' as never})).toThrow(/exchange-type/)
  })
})

describe('validateExpectations', () => {
  it('keeps only the thresholds given', () => {
    expect(validateExpectations({publishRate: 1000, consumeRate: undefined})).toEqual({publishRate: 1000})
  })

  it('rejects non-positive thresholds', () => {
    expect(() => validateExpectations({p99Ms: 0})).toThrow(/--expect-p99/)
    expect(() => validateExpectations({publishRate: -3})).toThrow(/--expect-publish-rate/)
  })

  it('rejects consumer thresholds when there are no consumers', () => {
    const options = validateBenchOptions({consumers: 0})
    expect(() => validateExpectations({p99Ms: 5}, options)).toThrow(/need consumers/)
    expect(validateExpectations({publishRate: 5}, options)).toEqual({publishRate: 5})
  })
})

describe('splitCount', () => {
  it('splits a total over producers, the remainder going to the first', () => {
    expect(splitCount(10, 3)).toEqual([4, 3, 3])
    expect(splitCount(9, 3)).toEqual([3, 3, 3])
    expect(splitCount(undefined, 2)).toEqual([undefined, undefined])
  })
})
