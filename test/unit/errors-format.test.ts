import {describe, expect, it} from 'vitest'
import {formatError, UnreachableError, UsageError} from '../../src/errors.js'

describe('formatError', () => {
  it('is one line when there is no multi-line detail', () => {
    expect(formatError(new UsageError('bad', 'Fix it'))).toBe('bad. Fix it')
  })
  it('puts multi-line detail under the first line, indented', () => {
    const text = formatError(
      new UnreachableError('the node exited while starting', 'Its log ends with:\nline a\nline b'),
    )
    const lines = text.split('\n')
    expect(lines[0]).toBe('the node exited while starting. Its log ends with:')
    expect(lines.slice(1)).toEqual(['  line a', '  line b'])
  })
})
