// biome-ignore-all lint/suspicious/noTemplateCurlyInString: scenario files use ${...} templates of their own
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startBroker} from '../../src/broker/index.js'
import type {Broker} from '../../src/broker/types.js'
import {ManagementClient} from '../../src/management/client.js'
import {loadBuiltinScenarios, parseScenario, selectScenarios} from '../../src/scenarios/load.js'
import {negativeRuns} from '../../src/scenarios/negatives.js'
import {runScenario, runScenarios} from '../../src/scenarios/runner.js'
import type {ScenarioDefinition, ScenarioReport, ScenarioResult} from '../../src/scenarios/types.js'
import {sharedBroker} from '../helpers/broker.js'

let broker: Broker
let builtins: ScenarioDefinition[]

beforeAll(async () => {
  const shared = sharedBroker()
  // The shared test node, as an external broker: scenarios make (and remove) their own vhosts.
  broker = await startBroker({runtime: 'external', url: shared.amqpUrl, managementUrl: shared.managementUrl})
  builtins = await loadBuiltinScenarios()
})

afterAll(async () => {
  await broker.stop()
})

async function run(name: string, overrides: Record<string, string | number | boolean> = {}): Promise<ScenarioResult> {
  return runScenario(selectScenarios(builtins, [name])[0], {broker, overrides})
}

function failedChecks(result: ScenarioResult): string[] {
  return result.checks.filter((c) => c.status === 'fail').map((c) => c.check)
}

/** Each built-in passes on a healthy broker (with small numbers, to keep the suite quick). */
const cases: {name: string; small: Record<string, number>}[] = [
  {name: 'load-balanced', small: {messages: 1000, fairMessages: 100}},
  {name: 'fanout', small: {messages: 100}},
  {name: 'routing', small: {}},
  {name: 'confirms', small: {messages: 200}},
  {name: 'rpc', small: {requests: 20}},
  {name: 'nack-requeue', small: {messages: 30}},
  {name: 'work-queue', small: {}},
  {name: 'consumer-crash', small: {}},
  {name: 'poison-message', small: {}},
  {name: 'ttl', small: {messages: 20}},
  {name: 'permissions', small: {}},
]

describe.each(cases)('scenario $name', ({name, small}) => {
  it('passes on a healthy broker, and its vhost is gone afterwards', async () => {
    const result = await run(name, small)
    expect(failedChecks(result), JSON.stringify(result.checks, null, 1)).toEqual([])
    expect(result.status).toBe('passed')
    expect(result.checks.length).toBeGreaterThan(2)
    expect(await new ManagementClient(broker.managementUrl).vhostExists(result.vhost as string)).toBe(false)
  })
})

/**
 * Every check shown failing: each negative case a built-in declares (its `negatives:`) runs through the same
 * runner, and passes only when exactly the checks it names fail. The unit suite checks that every check is
 * named by one; here they run (all at once, each in its own vhost), as `evt scenario --negatives` runs them.
 */
describe('negative cases of the built-ins that need no restart or cluster', () => {
  let report: ScenarioReport
  const singleNode = [...cases.map((c) => c.name), 'topology']
  beforeAll(async () => {
    const defs = negativeRuns(selectScenarios(builtins, singleNode))
    report = await runScenarios(defs, {broker, concurrency: 8})
  }, 240_000)

  it.each(singleNode)('%s: each negative case fails exactly the checks it names', (name) => {
    const runs = report.scenarios.filter((s) => s.name.startsWith(`${name} (negative `))
    expect(runs.length).toBe(selectScenarios(builtins, [name])[0].negatives.length)
    const wrong = runs
      .filter(
        (r) =>
          r.status !== 'passed' && !(r.status === 'skipped' && /broker version|ran to a verdict/.test(r.reason ?? '')),
      )
      .map(
        (r) =>
          `${r.name} (${r.summary}): ${r.status} ${r.reason ?? ''} ${r.checks
            .filter((c) => c.status === 'fail')
            .map((c) => `${c.check} -> ${c.observed}`)
            .join('; ')}`,
      )
    expect(wrong, wrong.join('\n')).toEqual([])
    expect(runs.some((r) => r.status === 'passed')).toBe(true)
  })
})

describe('scenario topology', () => {
  it('passes on the fixture topology, and leaves no vhost behind', async () => {
    const r = await run('topology', {topology: 'fixtures'})
    expect(failedChecks(r), JSON.stringify(r.checks)).toEqual([])
    expect(r.notes[0]).toMatch(/^\d+ event types in .* checked against fixture topology/)
    const vhosts = (await new ManagementClient(broker.managementUrl).get<{name: string}[]>('/vhosts')).map(
      (v) => v.name,
    )
    expect(vhosts.filter((v) => v.startsWith(r.vhost as string))).toEqual([])
  })
})

describe('the runner', () => {
  it('load-balanced and fanout side by side: deliveries per consumer are compared', async () => {
    const defs = selectScenarios(builtins, ['load-balanced', 'fanout'])
    const report = await runScenarios(defs, {broker, overrides: {messages: 200, consumers: 3, fairMessages: 50}})
    const failures = report.scenarios.flatMap((s) =>
      s.checks.filter((c) => c.status === 'fail').map((c) => `${s.name}: ${c.check} (observed ${c.observed})`),
    )
    expect(report.totals, failures.join('\n')).toMatchObject({scenarios: 2, passed: 2, failed: 0})
    expect(report.comparison?.map((c) => c.scenario)).toEqual(['load-balanced', 'fanout'])
    expect(report.comparison?.[0].deliveries.reduce((a, b) => a + b, 0)).toBe(200)
    expect(report.comparison?.[1].deliveries).toEqual([200, 200, 200])
  })

  it('skips a scenario that must restart the broker on an external broker, saying why', async () => {
    const result = await run('durability')
    expect(result.status).toBe('skipped')
    expect(result.reason).toMatch(/needs to restart the broker, and the external broker at amqp:\/\/.*:\*\*\*\*@/)
    expect(result.checks).toEqual([])
  })

  it('a step that errors fails the scenario with the step path (and still removes its vhost)', async () => {
    const def = await parseScenario(
      'name: broken-step\nsummary: publishes to an exchange that is not there\nsteps:\n  - publish:\n      exchange: nowhere\n      confirm: true\n  - expect:\n      - check: never reached\n        observed: 1\n        equals: 1\n',
      'broken.yaml',
    )
    const result = await runScenario(def, {broker})
    expect(result.status).toBe('failed')
    expect(result.reason).toMatch(/^steps\[0\] publish: .*NOT_FOUND - no exchange 'nowhere'/)
    expect(result.checks).toHaveLength(1)
    expect(await new ManagementClient(broker.managementUrl).vhostExists(result.vhost as string)).toBe(false)
  })

  it('a check whose value was never produced fails with the reason as its observed value', async () => {
    const result = await run('nack-requeue', {messages: 10, deadLetterExchange: ''})
    const xDeath = result.checks.find((c) => c.check === 'x-death names the queue the message died in')
    expect(xDeath).toMatchObject({
      status: 'fail',
      expected: '= orders',
      observed: '(not observed: ${dead.first.headers.x-death.0.queue} is not defined)',
    })
  })

  it('an unknown --param is a usage error', async () => {
    await expect(runScenarios(selectScenarios(builtins, ['routing']), {broker, overrides: {bogus: 1}})).rejects.toThrow(
      /no selected scenario has a parameter "bogus"/,
    )
  })
})
