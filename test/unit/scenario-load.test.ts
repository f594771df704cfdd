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
      'work-queue',
      'consumer-crash',
      'poison-message',
    ])
      expect(names).toContain(name)
    for (const d of all) {
      expect(d.summary.length).toBeGreaterThan(20)
      expect(d.seeds.length).toBeGreaterThan(0)
      expect(d.typicalSeconds).toBeGreaterThan(0)
    }
    expect(all.find((d) => d.name === 'durability')?.requires).toEqual(['restart'])
    expect(listScenarios(all)[0]).toMatchObject({name: 'work-queue', file: 'work-queue.yaml'})
    expect(listScenarios(all)[0].checks).toContain('every task is done once')
    // No built-in synchronises with a fixed sleep: checks that wait for the broker poll (expect + refresh).
    for (const d of all)
      expect(d.steps.filter((s) => s.action === 'wait').map((s) => `${d.name} ${s.path}`)).toEqual([])
    // The typical durations keep --all within two minutes (on one node: the cluster scenarios are skipped there).
    const single = all.filter((d) => !d.requires.includes('cluster'))
    expect(single.reduce((s, d) => s + d.typicalSeconds, 0)).toBeLessThan(120)
  })

  it('an unknown name is a usage error with the closest names', async () => {
    const all = await loadBuiltinScenarios()
    expect(() => selectScenarios(all, ['load-balance'])).toThrow(/unknown scenario "load-balance"/)
    let thrown: unknown
    try {
      selectScenarios(all, ['fanot'])
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(UsageError)
    expect((thrown as UsageError).exitCode).toBe(2)
    expect((thrown as UsageError).hint).toMatch(/Did you mean fanout/)
  })
})

describe('parseScenario refuses a bad file with file, path and reason', () => {
  it('invalid YAML', async () => {
    const err = await parseError('name: x\nsummary: [y\n')
    expect(err.exitCode).toBe(2)
    expect(err.message).toMatch(/^my\.yaml:\d+: invalid YAML/)
  })
  it('an unknown step', async () => {
    const err = await parseError(minimal('  - publsh: {}\n'))
    expect(err.message).toBe(
      'my.yaml:6: steps[0].publsh: unknown step "publsh" (steps: declare, publish, consume, get, check-queue, wait, restart-broker, kill-broker, serve, request, run, expect, note)',
    )
  })
  it('an unknown key in a step', async () => {
    const err = await parseError(minimal('  - publish:\n      routingkey: x\n'))
    expect(err.message).toMatch(/steps\[0\]\.publish\.routingkey: unknown key/)
  })
  it("an unknown key in a consume's nested publish, with its line", async () => {
    const err = await parseError(
      minimal('  - consume:\n      queue: q\n      publish:\n        count: 3\n        persistant: true\n'),
    )
    expect(err.message).toMatch(
      /^my\.yaml:10: steps\[0\]\.consume\.publish\.persistant: unknown key \(allowed: exchange,/,
    )
  })
  it('an unknown code step', async () => {
    const err = await parseError(minimal('  - run: make-coffee\n'))
    expect(err.message).toMatch(/steps\[0\]\.run: unknown code step "make-coffee"/)
  })
  it('a step that restarts, kills or faults the broker without `requires:` (it would run beside others)', async () => {
    const restart = await parseError(minimal('  - restart-broker:\n'))
    expect(restart.message).toMatch(
      /my\.yaml.*steps\[0\].*restart-broker changes the broker: add `requires: \[restart\]`/,
    )
    const kill = await parseError(minimal('  - run: publish-through-kill\n    with: {queue: q}\n'))
    expect(kill.message).toMatch(/run: publish-through-kill changes the broker: add `requires: \[restart\]`/)
    const fault = await parseError(minimal('  - run: node-fault\n    with: {action: kill, node: 1}\n'))
    expect(fault.message).toMatch(/run: node-fault changes the broker: add `requires: \[cluster\]`/)
    // With it, the file loads.
    const ok = await parseScenario(
      minimal('  - kill-broker:\n').replace('steps:', 'requires: [kill]\nsteps:'),
      'my.yaml',
    )
    expect(ok.requires).toEqual(['kill'])
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
  it('a body of the wrong type is refused at load time, with the file and line', async () => {
    const err = await parseError(minimal('  - note: first\n  - publish:\n      routingKey: q\n      count: many\n'))
    expect(err.message).toBe('my.yaml:9: steps[1].publish.count: expected a number (got "many")')
    const nul = await parseError(minimal('  - publish:\n      body: null\n'))
    expect(nul.message).toMatch(/^my\.yaml:7: steps\[0\]\.publish\.body: a body cannot be null/)
  })
  it('a property that AMQP does not have, and a bad version condition', async () => {
    const bad = await parseError(minimal('  - publish:\n      bodyBase64: AAEC\n      body: x\n'))
    expect(bad.message).toMatch(/give body or bodyBase64, not both/)
    const when = await parseError(minimal('  - note: x\n    when: {rabbitmq: "newest"}\n'))
    expect(when.message).toMatch(/^my\.yaml:7: steps\[0\]\.when: a condition/)
  })
  it('refresh names an earlier step, and only an expect polls', async () => {
    const ahead = await parseError(
      minimal(
        '  - expect:\n      - {check: x, observed: 1, equals: 1}\n    refresh: [later]\n  - get: {queue: q}\n    as: later\n',
      ),
    )
    expect(ahead.message).toMatch(/steps\[0\]\.refresh: no earlier step is named "later"/)
    const notExpect = await parseError(minimal('  - get: {queue: q}\n    within: 100\n'))
    expect(notExpect.message).toMatch(/only an expect step polls/)
  })
  it('a plain-text body, properties and a version condition are accepted', async () => {
    const def = await parseScenario(
      minimal(
        '  - publish:\n      body: "Hello World!"\n      properties: {contentType: text/plain, priority: 5}\n    when: {rabbitmq: ">=3.13 <4.3"}\n',
      ),
      'my.yaml',
    )
    expect(def.steps[0]).toMatchObject({action: 'publish', when: {rabbitmq: '>=3.13 <4.3'}})
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
