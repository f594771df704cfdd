import {describe, expect, it} from 'vitest'
import {toEvtError} from '../../src/errors-map.js'

describe('stray errors get the documented exit code', () => {
  it('a fetch that timed out mid-way is exit 3', () => {
    const err = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
    expect(toEvtError(err).exitCode).toBe(3)
  })
  it('a YAML alias bomb caught elsewhere is exit 2', () => {
    expect(
      toEvtError(new ReferenceError('Excessive alias count indicates a resource exhaustion attack')).exitCode,
    ).toBe(2)
  })
})
