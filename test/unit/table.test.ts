import {describe, expect, it} from 'vitest'
import {fitColumns, renderTable} from '../../src/ui/table.js'

describe('tables', () => {
  it('leave a table alone when it fits, and shrink the widest columns first when it does not', () => {
    expect(fitColumns([10, 20, 30], 100)).toBeUndefined()
    const fitted = fitColumns([10, 20, 60], 60)
    expect(fitted).toBeDefined()
    expect((fitted ?? []).reduce((a, b) => a + b, 0) + 4).toBeLessThanOrEqual(60)
    expect(fitted?.[0]).toBe(10)
  })

  it('wrap a long cell inside its column so no line is wider than the terminal', () => {
    const long = 'x'.repeat(200)
    const text = renderTable(['name', 'value'], [['a', long]], {maxWidth: 60})
    const lines = text.split('\n')
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(60)
    expect(text.replace(/[^x]/g, '').length).toBe(200)
  })

  it('draw no rule between rows: one line per row', () => {
    const text = renderTable(['a'], [['1'], ['2'], ['3']], {maxWidth: 80})
    // top rule, header, rule under the header, three rows, bottom rule
    expect(text.split('\n')).toHaveLength(7)
  })
})
