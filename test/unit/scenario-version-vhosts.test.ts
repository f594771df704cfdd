import {describe, expect, it} from 'vitest'
import {condition} from '../../src/scenarios/runner.js'
import {validRange, versionMatches} from '../../src/scenarios/version.js'
import {HOST_TAG, leftoverVhosts, scenarioVhost} from '../../src/scenarios/vhosts.js'

describe('broker version conditions', () => {
  it.each([
    ['3.10.8', '>=4.3', false],
    ['4.3.0', '>=4.3', true],
    ['4.2.9', '>=4.3', false],
    ['4.0.5', '>=4.0 <4.3', true],
    ['3.13.7', '>=4.0 <4.3', false],
    ['4.0.5', '4.0', true],
    ['4.1.0', '4.0', false],
    ['4.0.5', '=4.0.5', true],
    ['4.0.6', '=4.0.5', false],
    ['3.10.8', '<4.3', true],
    ['not a version', '>=1', false],
  ])('%s satisfies %s: %s', (version, range, expected) => {
    expect(versionMatches(version, range)).toBe(expected)
  })
  it('a range is checked at load time', () => {
    expect(validRange('>=3.13 <4.3')).toBe(true)
    expect(validRange('newest')).toBe(false)
    expect(validRange('>= 4')).toBe(false)
  })
  it('a step condition reads the version the runner stored', () => {
    const vars = {rabbitmq: {version: '3.10.8'}, params: {kill: false}}
    expect(condition({rabbitmq: '<4.3'}, vars, 'x')).toBe(true)
    expect(condition({rabbitmq: '>=4.3'}, vars, 'x')).toBe(false)
    expect(condition(undefined, vars, 'x')).toBe(true)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a scenario template
    expect(condition('${params.kill}', vars, 'x')).toBe(false)
  })
})

describe('scenario vhosts and the sweep of leftovers', () => {
  it('a vhost name carries this machine and this process', () => {
    expect(scenarioVhost('fanout')).toMatch(new RegExp(`^evt-scn-${HOST_TAG}-${process.pid}-fanout-[0-9a-f]{6}$`))
  })
  it('only vhosts of dead processes on this machine are leftovers', () => {
    const dead = scenarioVhost('ttl', 999_999)
    const alive = scenarioVhost('ttl', 4242)
    const mine = scenarioVhost('ttl')
    const otherMachine = dead.replace(HOST_TAG, HOST_TAG === 'aaaaaa' ? 'bbbbbb' : 'aaaaaa')
    const names = [dead, alive, mine, otherMachine, 'evt-scn-routing-9a3e89', 'orders', '/']
    expect(leftoverVhosts(names, (pid) => pid === 4242)).toEqual([dead])
  })
})
