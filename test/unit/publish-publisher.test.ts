import {beforeEach, describe, expect, it, vi} from 'vitest'
import {FakeBroker} from '../helpers/fake-amqp.js'

const fake = vi.hoisted(() => ({broker: undefined as unknown}))
// Every way of connecting reaches the one fake broker (a cluster's node list is one node here).
vi.mock('../../src/amqp/connect.js', () => ({
  connectAmqp: () => (fake.broker as FakeBroker).connect(),
  connectFirst: () => (fake.broker as FakeBroker).connect(),
}))

const {loadCatalogue} = await import('../../src/catalogue/catalogue.js')
const {publishEvents} = await import('../../src/publish/publisher.js')
const {EvtError} = await import('../../src/errors.js')

const catalogue = loadCatalogue()
const [orderCreated] = catalogue.resolve('ecommerce/order.created')
const url = 'amqp://u:p@127.0.0.1:5999'
let broker: FakeBroker

beforeEach(() => {
  broker = new FakeBroker()
  fake.broker = broker
})

describe('the publisher (a fake channel model)', () => {
  it('counts every message confirmed when the broker acks them all', async () => {
    const summary = await publishEvents({url, types: [orderCreated], count: 50, seed: 1})
    expect(summary.totals).toMatchObject({published: 50, confirmed: 50, returned: 0, nacked: 0, unconfirmed: 0})
    expect(summary.ok).toBe(true)
    expect(broker.published).toHaveLength(50)
  })

  it('never has more messages in flight than the confirm window', async () => {
    await publishEvents({url, types: [orderCreated], count: 200, confirmWindow: 7, seed: 1})
    expect(broker.maxInFlight).toBeGreaterThan(0)
    expect(broker.maxInFlight).toBeLessThanOrEqual(7)
  })

  it('counts a returned message as returned, never as confirmed, and fails the run', async () => {
    broker.outcome = (i) => (i % 10 === 3 ? 'return' : 'ack')
    const summary = await publishEvents({url, types: [orderCreated], count: 30, seed: 1})
    expect(summary.totals).toMatchObject({published: 30, confirmed: 27, returned: 3, nacked: 0})
    expect(summary.ok).toBe(false)
  })

  it('counts nacks and fails the run', async () => {
    broker.outcome = (i) => (i < 2 ? 'nack' : 'ack')
    const summary = await publishEvents({url, types: [orderCreated], count: 10, seed: 1})
    expect(summary.totals).toMatchObject({confirmed: 8, nacked: 2})
    expect(summary.ok).toBe(false)
  })

  it('reconnects after a dropped connection and republishes what was not confirmed', async () => {
    broker.dropAfter = 40
    const notices: string[] = []
    const summary = await publishEvents({
      url,
      types: [orderCreated],
      count: 100,
      seed: 1,
      onNotice: (n) => notices.push(n),
    })
    expect(summary.totals).toMatchObject({published: 100, confirmed: 100, unconfirmed: 0})
    expect(summary.reconnects).toBe(1)
    expect(summary.republished).toBeGreaterThan(0)
    expect(broker.connections.length).toBe(2)
    // Every message id reached the broker at least once on the second connection or was confirmed on the first.
    const ids = new Set(broker.published.map((m) => m.properties.messageId))
    expect(ids.size).toBe(100)
    expect(notices.join('\n')).toMatch(/reconnecting/)
    expect(notices.join('\n')).not.toMatch(/:p@/)
  })

  it('gives up with exit 3 and exact counts when the broker stays away', async () => {
    broker.dropAfter = 5
    broker.outcome = (i) => {
      if (i === 5) broker.down = true
      return 'ack'
    }
    const run = publishEvents({url, types: [orderCreated], count: 20, seed: 1, reconnectTimeoutMs: 300})
    await expect(run).rejects.toBeInstanceOf(EvtError)
    const err = (await run.catch((e: unknown) => e)) as InstanceType<typeof EvtError>
    expect(err.exitCode).toBe(3)
    expect(err.message).toMatch(
      /could not reconnect within 0.3 s: 5 confirmed, 0 returned, 0 nacked, 15 not confirmed \(of 20\)/,
    )
    expect(err.message).not.toMatch(/:p@/)
  })

  it('stops reconnecting at once on abort (Ctrl-C while the broker is away) and reports what was not confirmed', async () => {
    broker.dropAfter = 5
    broker.outcome = (i) => {
      if (i === 5) broker.down = true
      return 'ack'
    }
    const abort = new AbortController()
    const notices: string[] = []
    const started = Date.now()
    const run = publishEvents({
      url,
      types: [orderCreated],
      count: 20,
      seed: 1,
      reconnectTimeoutMs: 60_000,
      signal: abort.signal,
      onNotice: (n) => {
        notices.push(n)
        if (/reconnecting/.test(n)) setTimeout(() => abort.abort(), 50)
      },
    })
    const summary = await run
    // Well inside the 60 s reconnect timeout (and vitest's own timeout): the abort ended the waiting.
    expect(Date.now() - started).toBeLessThan(3000)
    expect(summary.interrupted).toBe(true)
    expect(summary.ok).toBe(false)
    expect(summary.totals.confirmed).toBe(5)
    expect(summary.totals.unconfirmed).toBe(summary.totals.published - 5)
    expect(summary.reconnects).toBe(0)
  })

  it('ends when Ctrl-C comes during a reconnect attempt that then succeeds (nothing is resent)', async () => {
    broker.dropAfter = 5
    const abort = new AbortController()
    // The first connect opens the run; the second is the reconnect, interrupted while it is under way.
    broker.onConnect = (attempt) => {
      if (attempt === 2) abort.abort()
    }
    const summary = await publishEvents({url, types: [orderCreated], count: 50, seed: 1, signal: abort.signal})
    expect(broker.connectAttempts).toBe(2)
    expect(summary.interrupted).toBe(true)
    expect(summary.reconnects).toBe(0)
    expect(summary.totals.confirmed + summary.totals.unconfirmed).toBe(summary.totals.published)
    expect(summary.totals.unconfirmed).toBeGreaterThan(0)
  })

  it('turns a missing exchange into one exit-3 line naming the exchange and vhost', async () => {
    broker.exchanges = new Set(['somewhere-else'])
    const err = await publishEvents({url, types: [orderCreated], count: 3, seed: 1}).catch((e) => e)
    expect(err).toBeInstanceOf(EvtError)
    expect(err.exitCode).toBe(3)
    expect(err.message).toMatch(/exchange "orders" does not exist in vhost "ecommerce"/)
  })

  it('stops on abort, waits for the confirms in flight and reports the run as interrupted', async () => {
    const abort = new AbortController()
    broker.outcome = (i) => {
      if (i === 25) abort.abort()
      return 'ack'
    }
    const summary = await publishEvents({url, types: [orderCreated], count: 1000, seed: 1, signal: abort.signal})
    expect(summary.interrupted).toBe(true)
    expect(summary.ok).toBe(false)
    expect(summary.totals.published).toBeLessThan(1000)
    expect(summary.totals.confirmed).toBe(summary.totals.published)
  })
})
