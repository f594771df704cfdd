// biome-ignore-all lint/suspicious/noTemplateCurlyInString: scenario files use ${...} templates of their own
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startBroker} from '../../src/broker/index.js'
import type {Broker} from '../../src/broker/types.js'
import {ManagementClient} from '../../src/management/client.js'
import {loadBuiltinScenarios, parseScenario, selectScenarios} from '../../src/scenarios/load.js'
import {runScenario, runScenarios} from '../../src/scenarios/runner.js'
import type {ScenarioDefinition, ScenarioResult} from '../../src/scenarios/types.js'
import {type Definitions, fixtureTopologyFiles} from '../../src/topology/definitions.js'
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

/** Each built-in passes on a healthy broker, and fails (through the same runner) when its promise is broken. */
const cases: {
  name: string
  small: Record<string, number>
  broken: Record<string, string | number | boolean>
  failing: RegExp
}[] = [
  {
    name: 'load-balanced',
    small: {messages: 1000, fairMessages: 100},
    // Each consumer gets its own queue: every message is delivered to all of them.
    broken: {workQueues: 4},
    failing: /no message is delivered twice/,
  },
  {
    name: 'fanout',
    small: {messages: 100},
    // The subscribers share one queue: they compete instead of each getting a copy.
    broken: {subscriberQueues: 1},
    failing: /the subscriber that got the least still got every message/,
  },
  {name: 'routing', small: {}, broken: {starPattern: 'customers.#'}, failing: /customers\.\* matches one word/},
  {name: 'confirms', small: {messages: 200}, broken: {mandatory: false}, failing: /comes back as a return/},
  {
    name: 'rpc',
    small: {requests: 20},
    // A server that does not echo the correlation id: no reply can be matched.
    broken: {echoCorrelation: false, replyTimeoutMs: 500},
    failing: /every request gets its reply \(reply queue\)/,
  },
  {
    name: 'nack-requeue',
    small: {messages: 30},
    // No dead-letter exchange: rejected messages are dropped.
    broken: {deadLetterExchange: ''},
    failing: /every rejected or nacked message reaches the dead-letter queue/,
  },
  {
    name: 'work-queue',
    small: {},
    // No prefetch limit: tasks are dealt round-robin whoever is busy.
    broken: {prefetch: 0},
    failing: /the slow worker takes fewer than half/,
  },
  {
    name: 'consumer-crash',
    small: {},
    // Auto-ack: the broker forgets a message as it sends it, so a crash loses what the consumer held.
    broken: {ackMode: 'none'},
    failing: /every message it held is consumed by the other consumer/,
  },
  {
    name: 'poison-message',
    small: {},
    // No dead-letter exchange: at its limit the message is dropped.
    broken: {deadLetterExchange: ''},
    failing: /^it is dead-lettered$/,
  },
  {name: 'ttl', small: {messages: 20}, broken: {queueTtlMs: 60_000}, failing: /per-queue TTL .* empties the queue/},
  {
    name: 'permissions',
    small: {},
    broken: {writePattern: '.*'},
    failing: /publishing billing.paid is refused/,
  },
]

describe.each(cases)('scenario $name', ({name, small, broken, failing}) => {
  it('passes on a healthy broker, and its vhost is gone afterwards', async () => {
    const result = await run(name, small)
    expect(failedChecks(result), JSON.stringify(result.checks, null, 1)).toEqual([])
    expect(result.status).toBe('passed')
    expect(result.checks.length).toBeGreaterThan(2)
    expect(await new ManagementClient(broker.managementUrl).vhostExists(result.vhost as string)).toBe(false)
  })

  it('fails when the broker setup breaks its promise', async () => {
    const result = await run(name, {...small, ...broken})
    expect(result.status).toBe('failed')
    expect(
      failedChecks(result).some((c) => failing.test(c)),
      JSON.stringify(failedChecks(result)),
    ).toBe(true)
  })
})

describe('scenario topology', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evt-scenario-topology-'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  /** The fixture topology files, copied, with one of them changed. */
  async function brokenTopology(file: string, change: (defs: Definitions) => void): Promise<string> {
    const files = await fixtureTopologyFiles()
    const out: string[] = []
    for (const f of files) {
      const defs = JSON.parse(await readFile(f, 'utf8')) as Definitions
      if (basename(f) === file) change(defs)
      const copy = join(dir, `${basename(f, '.json')}-${out.length}-${Math.random().toString(36).slice(2)}.json`)
      await writeFile(copy, JSON.stringify(defs))
      out.push(copy)
    }
    return out.join(',')
  }

  it('passes on the fixture topology, and leaves no vhost behind', async () => {
    const r = await run('topology', {topology: 'fixtures'})
    expect(failedChecks(r), JSON.stringify(r.checks)).toEqual([])
    expect(r.notes[0]).toMatch(/^\d+ event types in .* checked against fixture topology/)
    const vhosts = (await new ManagementClient(broker.managementUrl).get<{name: string}[]>('/vhosts')).map(
      (v) => v.name,
    )
    expect(vhosts.filter((v) => v.startsWith(r.vhost as string))).toEqual([])
  })

  it('fails when a binding is missing', async () => {
    const topology = await brokenTopology('customers.json', (defs) => {
      defs.bindings = defs.bindings.filter((b) => b.source !== 'customer_events')
    })
    const r = await run('topology', {topology})
    expect(failedChecks(r)).toContain('every event type reaches at least one queue')
    expect(r.checks.find((c) => c.check === 'every event type reaches at least one queue')?.observed).toMatch(
      /customers\/customers\.created/,
    )
  })

  it('fails when a persistent event lands in a non-durable queue', async () => {
    const topology = await brokenTopology('courses.json', (defs) => {
      for (const q of defs.queues) q.durable = false
    })
    const r = await run('topology', {topology})
    expect(failedChecks(r)).toEqual(['persistent events land only in durable queues'])
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
