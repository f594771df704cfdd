import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import {startBroker} from '../../src/broker/index.js'
import type {Broker} from '../../src/broker/types.js'
import {loadCatalogue} from '../../src/catalogue/catalogue.js'
import {withVhost} from '../../src/config/url.js'
import {publishEvents} from '../../src/publish/publisher.js'
import {provision} from '../../src/topology/provision.js'
import {waitFor} from '../../src/util/time.js'
import {runCli} from '../helpers/cli.js'
import {testBroker} from '../helpers/runtime.js'

// Killing and stopping a broker needs a private node; the topology comes from `evt provision`'s own function.
let broker: Broker
let home: string
const type = loadCatalogue().resolve('order.delivered')

async function depth(queue: string): Promise<number> {
  const conn = await connectAmqp(withVhost(broker.amqpUrl, 'ecommerce'))
  const ch = await conn.createChannel()
  const n = (await ch.checkQueue(queue)).messageCount
  await conn.close()
  return n
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-publish-reconnect-'))
  broker = await startBroker(testBroker('publish-reconnect'))
  await provision({managementUrl: broker.managementUrl, vhost: 'ecommerce', home})
})

afterAll(async () => {
  await broker?.stop()
  await rm(home, {recursive: true, force: true})
})

describe('losing the broker mid-run', () => {
  it('reconnects with backoff, republishes what was unconfirmed and confirms every message', async () => {
    const notices: string[] = []
    const count = 3000
    const run = publishEvents({
      url: broker.amqpUrl,
      types: type,
      count,
      rate: 600,
      reconnectTimeoutMs: 40_000,
      onNotice: (m) => notices.push(m),
    })
    // Kill the broker once publishing is under way (a tenth of the messages in the queue).
    await waitFor(async () => (await depth('order.delivered')) >= count / 10, {timeoutMs: 30_000, intervalMs: 50})
    await broker.killAndRestart()
    const summary = await run
    expect(summary.reconnects).toBeGreaterThanOrEqual(1)
    expect(summary.totals).toMatchObject({published: count, confirmed: count, returned: 0, nacked: 0, unconfirmed: 0})
    expect(summary.ok).toBe(true)
    expect(notices[0]).toMatch(/connection to .* lost; reconnecting/)
    // Confirmed persistent messages survive kill -9; republished ones may be there twice.
    const n = await depth('order.delivered')
    expect(n).toBeGreaterThanOrEqual(count)
    expect(n).toBeLessThanOrEqual(count + summary.republished)
  })

  it('gives up after --reconnect-timeout with exit 3, saying how many were confirmed', async () => {
    const res = runCli(
      ['publish', 'order.delivered', '-n', '100000', '--rate', '500', '--reconnect-timeout', '2', '--json'],
      {
        env: {RABBITMQ_URL: broker.amqpUrl, RABBITMQ_MANAGEMENT_URL: broker.managementUrl, EVT_HOME: home},
        timeoutMs: 90_000,
      },
    )
    // Stop the broker only once the CLI is publishing (its start-up time varies with the machine's load).
    const before = await depth('order.delivered')
    for (let i = 0; i < 200 && (await depth('order.delivered')) <= before; i++)
      await new Promise((r) => setTimeout(r, 100))
    await broker.stop()
    const out = await res
    expect(out.code).toBe(3)
    const err = JSON.parse(out.stdout).error
    expect(err.message).toMatch(
      /could not reconnect within 2 s: \d+ confirmed, 0 returned, 0 nacked, \d+ not confirmed \(of 100000\)/,
    )
    const confirmed = err.details.totals.confirmed
    expect(confirmed).toBeGreaterThan(0)
    expect(confirmed + err.details.notConfirmed).toBe(100000)
  })
})
