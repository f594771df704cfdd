import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {ChannelModel} from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadCatalogue} from '../../src/catalogue/catalogue.js'
import {generateEvent} from '../../src/catalogue/generate.js'
import {withVhost} from '../../src/config/url.js'
import {enc} from '../../src/management/client.js'
import {publishEvents} from '../../src/publish/publisher.js'
import type {Definitions} from '../../src/topology/definitions.js'
import {loadTopology} from '../../src/topology/load.js'
import {routeMessage} from '../../src/topology/routing.js'
import {connectAmqp, createTestVhost, type TestVhost} from '../helpers/broker.js'
import {runCli, spawnCli} from '../helpers/cli.js'

// Each seed system's topology (the fixture evt provision applies) is loaded into a fresh test vhost of its own.
const catalogue = loadCatalogue()
const systems = ['customers', 'ecommerce', 'tutorgo', 'courses'] as const
const vhosts = new Map<string, TestVhost>()
let topology: Definitions
let unroutable: TestVhost
let home: string
const conns: ChannelModel[] = []

async function importSystem(system: string, target: TestVhost): Promise<void> {
  const only = <T extends {vhost: string}>(list: T[]) =>
    list.filter((o) => o.vhost === system).map((o) => ({...o, vhost: target.vhost}))
  await target.api.post(`/definitions/${enc(target.vhost)}`, {
    exchanges: only(topology.exchanges),
    queues: only(topology.queues),
    bindings: only(topology.bindings),
    policies: only(topology.policies),
  })
}

async function queueDepths(target: TestVhost): Promise<Map<string, number>> {
  const conn = await connectAmqp(target.amqpUrl)
  conns.push(conn)
  const ch = await conn.createChannel()
  const depths = new Map<string, number>()
  for (const q of topology.queues.filter((x) => x.vhost === vhostSystem(target))) {
    depths.set(q.name, (await ch.checkQueue(q.name)).messageCount)
  }
  await conn.close()
  return depths
}

function vhostSystem(target: TestVhost): string {
  for (const [system, v] of vhosts) if (v === target) return system
  throw new Error('unknown vhost')
}

async function purgeAll(target: TestVhost): Promise<void> {
  const conn = await connectAmqp(target.amqpUrl)
  const ch = await conn.createChannel()
  for (const q of topology.queues.filter((x) => x.vhost === vhostSystem(target))) await ch.purgeQueue(q.name)
  await conn.close()
}

async function takeAll(target: TestVhost, queue: string): Promise<Buffer[]> {
  const conn = await connectAmqp(target.amqpUrl)
  const ch = await conn.createChannel()
  const out: Buffer[] = []
  for (;;) {
    const m = await ch.get(queue, {noAck: true})
    if (!m) break
    out.push(m.content)
  }
  await conn.close()
  return out
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-publish-it-'))
  topology = await loadTopology()
  for (const system of systems) {
    const v = await createTestVhost(`pub-${system}`)
    vhosts.set(system, v)
    await importSystem(system, v)
  }
  unroutable = await createTestVhost('pub-unroutable')
  await unroutable.api.put(`/exchanges/${enc(unroutable.vhost)}/orders`, {type: 'topic', durable: true})
})

afterAll(async () => {
  for (const c of conns) await c.close().catch(() => {})
  for (const v of vhosts.values()) await v.cleanup()
  await unroutable?.cleanup()
  await rm(home, {recursive: true, force: true})
})

const ecommerce = () => vhosts.get('ecommerce') as TestVhost
const cli = (args: string[], v: TestVhost = ecommerce()) =>
  runCli(['publish', '--vhost', v.vhost, ...args], {
    env: {RABBITMQ_URL: v.brokerUrl, RABBITMQ_MANAGEMENT_URL: v.managementUrl, EVT_HOME: home},
  })

describe('publishing through the provisioned topology', () => {
  it('every catalogue type lands in exactly the queues the topology binds for it', async () => {
    for (const type of catalogue.list()) {
      const target = vhosts.get(type.system) as TestVhost
      const summary = await publishEvents({
        url: target.brokerUrl,
        vhost: target.vhost,
        types: [type],
        count: 2,
        seed: 1,
      })
      expect(summary.totals, type.qualifiedName).toMatchObject({published: 2, confirmed: 2, returned: 0, nacked: 0})
      const key = (await generateEvent(type, {seed: 1})).routingKey
      const expected = routeMessage(topology, type.system, type.exchange, key)
      expect(expected.length, `${type.qualifiedName} routes nowhere in the fixture`).toBeGreaterThan(0)
      const depths = await queueDepths(target)
      for (const [queue, depth] of depths) {
        expect(depth, `${type.qualifiedName} → ${queue}`).toBe(expected.includes(queue) ? 2 : 0)
      }
      await purgeAll(target)
    }
  })

  it('counts unroutable messages as returned, never as confirmed, and exits 1', async () => {
    const summary = await publishEvents({
      url: unroutable.brokerUrl,
      vhost: unroutable.vhost,
      types: catalogue.resolve('order.created'),
      count: 20,
    })
    expect(summary.totals).toMatchObject({published: 20, confirmed: 0, returned: 20, nacked: 0, unconfirmed: 0})
    expect(summary.ok).toBe(false)

    const res = await cli(['order.created', '-n', '5', '--json'], unroutable)
    expect(res.code, res.stdout + res.stderr).toBe(1)
    const out = JSON.parse(res.stdout)
    expect(out.totals).toMatchObject({published: 5, confirmed: 0, returned: 5})
    const human = await cli(['order.created', '-n', '3'], unroutable)
    expect(human.code).toBe(1)
    expect(human.stderr).toMatch(/3 returned unroutable.*0 of 3 confirmed/)
  })

  it('counts returns without confirms too', async () => {
    const summary = await publishEvents({
      url: unroutable.brokerUrl,
      vhost: unroutable.vhost,
      types: catalogue.resolve('order.created'),
      count: 10,
      confirm: false,
      persistent: false,
    })
    expect(summary.totals).toMatchObject({published: 10, confirmed: 0, returned: 10})
  })

  it('--seed publishes byte-identical bodies', async () => {
    const v = ecommerce()
    const run = async () => {
      const res = await cli(['order.shipped', '-n', '5', '--seed', '42', '--tenant', 'tenant_abc'])
      expect(res.code, res.stdout + res.stderr).toBe(0)
      return takeAll(v, 'order.shipped')
    }
    const first = await run()
    await purgeAll(v)
    const second = await run()
    await purgeAll(v)
    expect(first).toHaveLength(5)
    expect(second.map((b) => b.toString())).toEqual(first.map((b) => b.toString()))
    const env = JSON.parse(first[0]!.toString())
    expect(env).toMatchObject({type: 'order.shipped', source: 'oms-service', tenant_id: 'tenant_abc'})
    expect(env.timestamp).toBe('2024-01-15T10:30:00.000Z')
  })

  it('--set and --data overrides reach the queue; --envelope none sends the bare data', async () => {
    const v = ecommerce()
    const file = join(home, 'data.json')
    await writeFile(file, JSON.stringify({payment: {currency: 'EUR'}}))
    const res = await cli([
      'order.paid',
      '--data',
      `@${file}`,
      '--set',
      'order_id="order_abcdefgh"',
      '--envelope',
      'none',
    ])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    const [body] = await takeAll(v, 'order.paid')
    const data = JSON.parse(body!.toString())
    expect(data.order_id).toBe('order_abcdefgh')
    expect(data.payment.currency).toBe('EUR')
    expect(data.id).toBeUndefined()
    await purgeAll(v)
  })

  it('schema violations, unknown and ambiguous types exit 2 and publish nothing', async () => {
    const v = ecommerce()
    const bad = await cli(['order.created', '--set', 'currency=XYZ', '--set', 'items[0].quantity=-1'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/data\.currency must be one of/)
    expect(bad.stderr).toMatch(/data\.items\.0\.quantity must be >= 1/)
    const unknown = await cli(['order.creatd', 'order.created'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/Did you mean: order\.created/)
    const ambiguous = await cli(['payment.completed', '--json'])
    expect(ambiguous.code).toBe(2)
    expect(JSON.parse(ambiguous.stdout).error.details.candidates).toEqual([
      'ecommerce/payment.completed',
      'tutorgo/payment.completed',
    ])
    const none = await cli([])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/no event type given/)
    const depths = await queueDepths(v)
    expect([...depths.values()].every((d) => d === 0)).toBe(true)
  })

  it('a missing exchange is the broker refusing the publish: exit 3 with a hint', async () => {
    const res = await cli(['tutorgo/review.submitted'], ecommerce())
    expect(res.code).toBe(3)
    expect(res.stderr).toMatch(/exchange "tutorgo_events" does not exist/)
  })

  it('publishes several types and patterns in one run with a JSON summary', async () => {
    const v = ecommerce()
    const res = await cli(['order.*', 'notification.sms', '-n', '3', '--rate', '200', '--transient', '--json'])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out.types).toHaveLength(9)
    expect(out.totals).toMatchObject({published: 27, confirmed: 27, returned: 0, nacked: 0})
    expect(out.persistent).toBe(false)
    expect(out.durationMs).toBeGreaterThanOrEqual(100) // 27 messages at 200/s
    expect(res.stderr).toBe('')
    await purgeAll(v)
  })
})

describe('Ctrl-C', () => {
  it('stops publishing, waits for the confirms in flight, reports them and exits 1', async () => {
    const v = ecommerce()
    const child = spawnCli(
      ['publish', 'order.confirmed', '--vhost', v.vhost, '-n', '100000', '--rate', '1000', '--json'],
      {
        env: {RABBITMQ_URL: v.brokerUrl, RABBITMQ_MANAGEMENT_URL: v.managementUrl, EVT_HOME: home},
      },
    )
    let stdout = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    // Interrupt once it is publishing (its start-up time varies with the machine's load).
    for (let i = 0; i < 200 && !((await queueDepths(v)).get('warehouse.orders')! > 0); i++) {
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill('SIGINT')
    const code = await new Promise((r) => child.on('close', r))
    expect(code).toBe(1)
    const out = JSON.parse(stdout)
    expect(out.interrupted).toBe(true)
    expect(out.totals.published).toBeGreaterThan(0)
    expect(out.totals.published).toBeLessThan(100000)
    expect(out.totals.confirmed).toBe(out.totals.published)
    expect((await queueDepths(v)).get('warehouse.orders')).toBe(out.totals.published)
    await purgeAll(v)
  })
})

describe('the vhost of each type', () => {
  it("goes to the type's own vhost when neither --vhost nor the URL names one", async () => {
    const v = vhosts.get('courses') as TestVhost
    const res = await runCli(['publish', 'videos.created'], {
      env: {RABBITMQ_URL: v.brokerUrl, RABBITMQ_MANAGEMENT_URL: v.managementUrl, EVT_HOME: home},
    })
    // The shared test node has no vhost "courses" (the tests use random vhost names).
    expect(res.code).toBe(3)
    expect(res.stderr).toMatch(/vhost "courses" not found/)
    const summary = await publishEvents({
      url: withVhost(v.brokerUrl, v.vhost),
      vhost: v.vhost,
      types: catalogue.resolve('videos.created'),
    })
    expect(summary.types[0]!.vhost).toBe(v.vhost)
    expect(summary.totals.confirmed).toBe(1)
    await purgeAll(v)
  })
})
