import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startBroker} from '../../src/broker/index.js'
import type {Broker} from '../../src/broker/types.js'
import {loadBuiltinScenarios, selectScenarios} from '../../src/scenarios/load.js'
import {runScenario} from '../../src/scenarios/runner.js'
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
  })

  it('fails when the queue is not durable', async () => {
    const r = await run({messages: 1000, transientMessages: 100, queueDurable: false})
    expect(r.status).toBe('failed')
    expect(failed(r)).toEqual(['the durable queue survives the restart', 'every confirmed persistent message survives'])
  })
})

describe('durability --kill (SIGKILL mid-publish)', () => {
  it('passes: no confirmed message is lost, none duplicated', async () => {
    const r = await run({messages: 3000, kill: true})
    expect(failed(r), JSON.stringify(r.checks)).toEqual([])
    expect(r.notes[0]).toMatch(/confirmed-but-lost 0, unconfirmed-but-present \d+, duplicates 0/)
  })

  it('fails when confirmed messages are lost (the queue was not durable)', async () => {
    const r = await run({messages: 3000, kill: true, queueDurable: false})
    expect(r.status).toBe('failed')
    expect(failed(r)).toContain('every message whose publish was confirmed is still there (confirmed-but-lost)')
  })
})
