import {describe, expect, it} from 'vitest'
import {parseScenario} from '../../src/scenarios/load.js'

describe('a YAML alias bomb', () => {
  it('is exit 2 naming the file, not a hang or an exit 1', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i)
      const name = String.fromCharCode(97 + i)
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`)
    }
    const text = `name: bomb\nsummary: s\nsteps: [{publish: x}]\n${levels.join('\n')}\n`
    await expect(parseScenario(text, 'bomb.yaml')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('bomb.yaml'),
    })
  })
})
