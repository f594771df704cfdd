import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startBroker} from '../../src/broker/index.js'
import type {Broker} from '../../src/broker/types.js'
import {loadBuiltinScenarios, selectScenarios} from '../../src/scenarios/load.js'
import {negativeRuns} from '../../src/scenarios/negatives.js'
import {runScenario, runScenarios} from '../../src/scenarios/runner.js'
import type {ScenarioDefinition, ScenarioResult} from '../../src/scenarios/types.js'
import {testBroker} from '../helpers/runtime.js'

// durability restarts and kills its broker: it gets a private broker (EVT_TEST_RUNTIME: node or container).
let broker: Broker
let durability: ScenarioDefinition
let restarts = 0

beforeAll(async () => {
  broker = await startBroker(testBroker('scn-durability'))
  durability = selectScenarios(await loadBuiltinScenarios(), ['durability'])[0]
})

afterAll(async () => {
  await broker?.stop()
})

function run(overrides: Record<string, string | number | boolean>): Promise<ScenarioResult> {
  return runScenario(durability, {
    broker,
    overrides,
    onRestart: async () => {
      restarts++
    },
  })
}

const failed = (r: ScenarioResult) => r.checks.filter((c) => c.status === 'fail').map((c) => c.check)

describe('durability across a graceful restart', () => {
  it('passes: durable queue and persistent messages survive, the rest does not', async () => {
    const before = restarts
    const r = await run({messages: 1000, transientMessages: 100})
    expect(failed(r), JSON.stringify(r.checks)).toEqual([])
    expect(r.status).toBe('passed')
    expect(r.checks.map((c) => c.check)).toContain('an exclusive queue is gone')
    expect(restarts).toBe(before + 1)
    // A local node restarts the RabbitMQ application in its VM; a container has no such thing: the node.
    const how = broker.runtime === 'local' ? 'app' : 'node'
    expect(r.notes.join('\n')).toMatch(new RegExp(`graceful restart \\(${how}\\) took [\\d.]+ s`))
  })

  it('passes with restart: node too (the whole node process stops and starts)', async () => {
    const r = await run({messages: 500, transientMessages: 50, restart: 'node'})
    expect(failed(r), JSON.stringify(r.checks)).toEqual([])
    expect(r.notes.join('\n')).toMatch(/graceful restart \(node\) took [\d.]+ s/)
  })

  it('an unknown restart kind is bad input: errored with exit code 2, the broker untouched', async () => {
    const before = restarts
    const r = await run({restart: 'reboot'})
    expect(r.status).toBe('errored')
    expect(r.errorExitCode).toBe(2)
    expect(r.reason).toMatch(/restart-broker: how: node or app \(got reboot\)/)
    expect(restarts).toBe(before)
  })
})

describe('durability --kill (SIGKILL mid-publish)', () => {
  it('passes: no confirmed message is lost, none duplicated', async () => {
    const r = await run({messages: 3000, kill: true})
    expect(failed(r), JSON.stringify(r.checks)).toEqual([])
    expect(r.notes[0]).toMatch(/confirmed-but-lost 0, unconfirmed-but-present \d+, duplicates 0/)
  })
})

describe('durability negative cases (every check shown failing)', () => {
  it('each breaks the promise it names: exactly those checks fail, on a restart or a SIGKILL', async () => {
    const report = await runScenarios(negativeRuns([durability]), {
      broker,
      onRestart: async () => {
        restarts++
      },
    })
    expect(report.scenarios).toHaveLength(durability.negatives.length)
    const wrong = report.scenarios
      .filter((r) => r.status !== 'passed')
      .map(
        (r) =>
          `${r.name}: ${r.status} ${r.reason ?? ''} ${JSON.stringify(r.checks.filter((c) => c.status !== 'pass'))}`,
      )
    expect(wrong, wrong.join('\n')).toEqual([])
  }, 240_000)
})
