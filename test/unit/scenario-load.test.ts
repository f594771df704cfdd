// biome-ignore-all lint/suspicious/noTemplateCurlyInString: scenario files use ${...} templates of their own
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {evaluateCheck} from '../../src/scenarios/expect.js'
import {
  applyParams,
  listScenarios,
  loadBuiltinScenarios,
  parseScenario,
  selectScenarios,
} from '../../src/scenarios/load.js'
import {evaluate, resolve} from '../../src/scenarios/template.js'

const minimal = (steps: string) => `name: mine\nsummary: proves something\nparams:\n  n: 3\nsteps:\n${steps}`

async function parseError(text: string): Promise<UsageError> {
  try {
    await parseScenario(text, 'my.yaml')
  } catch (err) {
    return err as UsageError
  }
  throw new Error('expected the file to be refused')
}

describe('built-in scenario files', () => {
  it('all load, have a summary, seeds and a typical duration, and the list shows them', async () => {
    const all = await loadBuiltinScenarios()
    const names = all.map((d) => d.name)
    for (const name of [
      'load-balanced',
      'fanout',
      'durability',
      'nack-requeue',
      'confirms',
      'rpc',
      'routing',
      'ttl',
      'permissions',
      'topology',
    ])
      expect(names).toContain(name)
    for (const d of all) {
      expect(d.summary.length).toBeGreaterThan(20)
      expect(d.seeds.length).toBeGreaterThan(0)
      expect(d.typicalSeconds).toBeGreaterThan(0)
    }
    expect(all.find((d) => d.name === 'durability')?.requires).toEqual(['restart'])
    expect(listScenarios(all)[0]).toMatchObject({name: 'load-balanced', file: 'load-balanced.yaml'})
    // The typical durations keep --all within two minutes.
    expect(all.reduce((s, d) => s + d.typicalSeconds, 0)).toBeLessThan(120)
  })

  it('an unknown name is a usage error with the closest names', async () => {
    const all = await loadBuiltinScenarios()
    expect(() => selectScenarios(all, ['load-balance'])).toThrow(/unknown scenario "load-balance"/)
    try {
      selectScenarios(all, ['fanot'])
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError)
      expect((err as UsageError).exitCode).toBe(2)
      expect((err as UsageError).hint).toMatch(/Did you mean fanout/)
    }
  })
})

describe('parseScenario refuses a bad file with file, path and reason', () => {
  it('invalid YAML', async () => {
    const err = await parseError('name: x\nsummary: [y\n')
    expect(err.exitCode).toBe(2)
    expect(err.message).toMatch(/^my\.yaml: line \d+, column \d+: invalid YAML/)
  })
  it('an unknown step', async () => {
    const err = await parseError(minimal('  - publsh: {}\n'))
    expect(err.message).toBe(
      'my.yaml: steps[0].publsh: unknown step "publsh" (steps: declare, publish, consume, get, check-queue, wait, restart-broker, kill-broker, run, expect, note)',
    )
  })
  it('an unknown key in a step', async () => {
    const err = await parseError(minimal('  - publish:\n      routingkey: x\n'))
    expect(err.message).toMatch(/steps\[0\]\.publish\.routingkey: unknown key/)
  })
  it('an unknown code step', async () => {
    const err = await parseError(minimal('  - run: make-coffee\n'))
    expect(err.message).toMatch(/steps\[0\]\.run: unknown code step "make-coffee"/)
  })
  it('a parameter that is used but not declared', async () => {
    const err = await parseError(minimal('  - wait: ${params.delay}\n'))
    expect(err.message).toMatch(/\$\{params\.delay\} is used but params has no "delay"/)
  })
  it('a check without a comparator', async () => {
    const err = await parseError(minimal('  - expect:\n      - check: x\n        observed: 1\n'))
    expect(err.message).toMatch(/steps\[0\]\.expect\[0\]: a check needs exactly one of: equals/)
  })
  it('two actions in one step', async () => {
    const err = await parseError(minimal('  - wait: 1\n    note: hi\n'))
    expect(err.message).toMatch(/exactly one action \(found wait, note\)/)
  })
  it('accepts a good file', async () => {
    const def = await parseScenario(minimal('  - wait: ${params.n}\n    when: true\n'), 'my.yaml')
    expect(def.steps[0]).toMatchObject({action: 'wait', spec: '${params.n}', path: 'steps[0]', when: true})
  })
})

describe('templates', () => {
  const vars = {
    params: {messages: 10, consumers: 4, kill: false},
    after: {'deadletter.orders': {messages: 7}},
    dead: {first: {headers: {'x-death': [{queue: 'orders', reason: 'rejected'}]}}},
  }
  it('a whole template keeps its type; inside text it is interpolated', () => {
    expect(resolve('${params.messages}', vars, 'w')).toBe(10)
    expect(resolve('got ${params.messages}', vars, 'w')).toBe('got 10')
    expect(resolve({a: ['${params.consumers}']}, vars, 'w')).toEqual({a: [4]})
  })
  it('arithmetic with precedence and comparisons', () => {
    expect(evaluate(vars, 'params.messages * params.consumers + 1', 'w')).toBe(41)
    expect(evaluate(vars, 'params.kill == false', 'w')).toBe(true)
    expect(evaluate(vars, 'params.consumers != 4', 'w')).toBe(false)
  })
  it('names with dots and dashes', () => {
    expect(resolve('${after.deadletter.orders.messages}', vars, 'w')).toBe(7)
    expect(resolve('${dead.first.headers.x-death.0.reason}', vars, 'w')).toBe('rejected')
  })
  it('an undefined name is a usage error naming where', () => {
    expect(() => resolve('${nope.x}', vars, 'steps[2].publish.count')).toThrow(
      /steps\[2\]\.publish\.count: \$\{nope\.x\} is not defined/,
    )
  })
})

describe('parameters and checks', () => {
  it('overrides take the type of the default', async () => {
    const def = await parseScenario(
      'name: p\nsummary: s\nparams:\n  n: 1\n  on: true\n  key: a\nsteps:\n  - wait: 1\n',
      'p.yaml',
    )
    expect(applyParams(def, {n: '5', on: 'false', key: 7})).toEqual({n: 5, on: false, key: '7'})
    expect(() => applyParams(def, {n: 'many'})).toThrow(/must be a number/)
  })
  it('each comparator passes and fails', () => {
    const run = (c: Record<string, unknown>) => evaluateCheck({check: 'c', ...c}).status
    expect(run({observed: 5, equals: 5})).toBe('pass')
    expect(run({observed: 5, equals: '6'})).toBe('fail')
    expect(run({observed: 5, atMost: 5})).toBe('pass')
    expect(run({observed: 6, atMost: 5})).toBe('fail')
    expect(run({observed: 4, lessThan: 4})).toBe('fail')
    expect(run({observed: 5, greaterThan: 4})).toBe('pass')
    expect(run({observed: ['b', 'a'], sameItems: ['a', 'b']})).toBe('pass')
    expect(run({observed: ['a'], sameItems: ['a', 'b']})).toBe('fail')
    expect(run({observed: 'refused: x', matches: '^refused'})).toBe('pass')
    expect(run({observed: true, equals: true})).toBe('pass')
    expect(run({observed: false, equals: true})).toBe('fail')
    expect(evaluateCheck({check: 'c', observed: 3, atLeast: 4})).toEqual({
      check: 'c',
      expected: '≥ 4',
      observed: '3',
      status: 'fail',
    })
  })
})
