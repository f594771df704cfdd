import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startBroker} from '../../src/broker/index.js'
import type {Broker} from '../../src/broker/types.js'
import {parseScenario} from '../../src/scenarios/load.js'
import {runScenario} from '../../src/scenarios/runner.js'
import {sharedBroker} from '../helpers/broker.js'

// Every complete scenario file shown in docs/scenarios.md (a ```yaml block that starts with `name:`) runs
// and passes (or, when it needs to restart the broker, is skipped on this external one).
const DOC = fileURLToPath(new URL('../../docs/scenarios.md', import.meta.url))

async function examples(): Promise<{name: string; text: string}[]> {
  const md = await readFile(DOC, 'utf8')
  return [...md.matchAll(/```yaml\n(name: ([a-z0-9-]+)[\s\S]*?)```/g)].map((m) => ({name: m[2], text: m[1]}))
}

let broker: Broker
beforeAll(async () => {
  const shared = sharedBroker()
  broker = await startBroker({runtime: 'external', url: shared.amqpUrl, managementUrl: shared.managementUrl})
})
afterAll(async () => {
  await broker.stop()
})

describe('docs/scenarios.md examples', async () => {
  const all = await examples()
  it('there is an example for each part of the language', () => {
    expect(all.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'example-bodies',
        'example-dead-letters',
        'example-consumers',
        'example-rpc',
        'example-queue-types',
        'example-versions',
      ]),
    )
  })
  it.concurrent.each(all)('$name runs and passes', async ({name, text}) => {
    const def = await parseScenario(text, `docs/scenarios.md#${name}`)
    const result = await runScenario(def, {broker})
    const failed = result.checks.filter((c) => c.status !== 'pass')
    if (def.requires.length > 0) expect(result.status).toBe('skipped')
    else {
      expect(failed, JSON.stringify(result.checks, null, 1) + (result.reason ?? '')).toEqual([])
      expect(result.status).toBe('passed')
      expect(result.checks.length).toBeGreaterThan(0)
    }
  })
})
