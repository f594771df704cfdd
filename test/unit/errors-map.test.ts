import {describe, expect, it} from 'vitest'
import {EvtError} from '../../src/errors.js'
import {toEvtError} from '../../src/errors-map.js'

describe('toEvtError', () => {
  it('keeps the reason of a multi-line oclif parse error on one line, exit 2', () => {
    const parseError = Object.assign(
      new Error(
        'Parsing --count \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help',
      ),
      {oclif: {exit: 2}},
    )
    const e = toEvtError(parseError)
    expect(e.exitCode).toBe(2)
    expect(e.message).toBe('Parsing --count: Expected an integer greater than or equal to 1 but received: 0')
  })
  it('masks credentials in stray library errors', () => {
    const e = toEvtError(new Error('connect ECONNREFUSED amqp://u:hunter2@h:1'))
    expect(e.exitCode).toBe(3)
    expect(e.message).not.toContain('hunter2')
  })
  it('passes an EvtError through unchanged', () => {
    const original = new EvtError('x', {exitCode: 1})
    expect(toEvtError(original)).toBe(original)
  })
  it('maps a refused channel operation to exit 2 and ACCESS_REFUSED to exit 3', () => {
    expect(toEvtError(new Error('Channel closed by server: 404 (NOT-FOUND) NOT_FOUND - no exchange')).exitCode).toBe(2)
    expect(toEvtError(new Error('403 (ACCESS-REFUSED) ACCESS_REFUSED - write access')).exitCode).toBe(3)
  })
})
