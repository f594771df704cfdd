import {describe, expect, it} from 'vitest'
import {type Definitions, emptyDefinitions} from '../../src/topology/definitions.js'
import {atLeast, lintDefinitions} from '../../src/topology/lint.js'

const q = (name: string, args: Record<string, unknown>, durable = true) => ({
  name,
  vhost: 'v',
  durable,
  auto_delete: false,
  arguments: args,
})

const defs: Definitions = {
  ...emptyDefinitions(),
  queues: [q('lazy', {'x-queue-mode': 'lazy'}), q('v1', {'x-queue-version': 1}), q('transient', {}, false)],
  policies: [
    {vhost: 'v', name: 'ha', pattern: '.*', 'apply-to': 'queues', definition: {'ha-mode': 'all'}, priority: 0},
    {vhost: 'v', name: 'streams', pattern: '.*', 'apply-to': 'streams', definition: {'max-age': '1D'}, priority: 0},
  ],
  parameters: [{vhost: 'v', component: 'shovel', name: 's', value: {}}],
}

const paths = (version: string, extra: object = {}) =>
  lintDefinitions(defs, {version, ...extra}).map((f) => `${f.severity} ${f.path}`)

describe('lintDefinitions', () => {
  it('compares versions', () => {
    expect(atLeast('3.10.8', '3.12')).toBe(false)
    expect(atLeast('4.0.1', '4.0')).toBe(true)
    expect(atLeast('4.3', '4.3.0')).toBe(true)
  })

  it('on 3.10: apply-to by queue type is refused; mirroring and lazy queues still work', () => {
    expect(paths('3.10.8')).toEqual(['error $.policies[1].apply-to'])
  })

  it('on 4.0: classic mirroring is gone', () => {
    expect(paths('4.0')).toEqual(['warning $.policies[0].definition.ha-mode'])
  })

  it('on 4.3: x-queue-mode, classic queues v1 and transient non-exclusive queues too', () => {
    expect(paths('4.3.0')).toEqual([
      'warning $.queues[0].arguments.x-queue-mode',
      'warning $.queues[1].arguments.x-queue-version',
      'warning $.queues[2].durable',
      'warning $.policies[0].definition.ha-mode',
    ])
  })

  it('a plugin component or exchange type the running broker lacks is an error', () => {
    const withX = {
      ...defs,
      exchanges: [
        {
          name: 'd',
          vhost: 'v',
          type: 'x-delayed-message',
          durable: true,
          auto_delete: false,
          internal: false,
          arguments: {},
        },
      ],
    }
    const found = lintDefinitions(withX, {version: '3.13.0', plugins: ['rabbit'], exchangeTypes: ['topic']})
    expect(found.filter((f) => f.severity === 'error').map((f) => f.path)).toEqual([
      '$.parameters[0].component',
      '$.exchanges[0].type',
    ])
  })
})
