import {Writable} from 'node:stream'
import {beforeEach, describe, expect, it, vi} from 'vitest'
import type {TapPlan} from '../../src/tail/plan.js'
import {waitFor} from '../../src/util/time.js'
import {FakeBroker, type FakeChannel} from '../helpers/fake-amqp.js'

const fake = vi.hoisted(() => ({broker: undefined as unknown}))
// Every way of connecting reaches the one fake broker (a cluster's node list is one node here).
vi.mock('../../src/amqp/connect.js', () => ({
  connectAmqp: () => (fake.broker as FakeBroker).connect(),
  connectFirst: () => (fake.broker as FakeBroker).connect(),
}))

const {TailSession} = await import('../../src/tail/session.js')

let broker: FakeBroker

beforeEach(() => {
  broker = new FakeBroker()
  fake.broker = broker
})

function plan(mode: TapPlan['mode'], extra: Partial<TapPlan> = {}): TapPlan {
  return {
    target: {kind: 'queue', vhost: 'v', name: 'q', live: true},
    mode,
    bindings: mode === 'tap' ? [{exchange: 'ex', routingKey: '#', arguments: {}}] : [],
    label: 'queue v/q',
    header: '',
    ...extra,
  }
}

function sink() {
  const chunks: Buffer[] = []
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk)
      cb()
    },
  })
  return {out, text: () => Buffer.concat(chunks).toString()}
}

function channelOf(connection = 0): FakeChannel {
  return broker.connections[connection].channels[0]
}

const body = (i: number) => JSON.stringify({id: `evt_${i}`, data: {n: i, pad: 'x'.repeat(80)}})

describe('the tail session (a fake channel model)', () => {
  it('--consume acks only what a pipe reader has certainly taken, and the rest once the tail stops', async () => {
    const {out, text} = sink()
    const logs: string[] = []
    const session = new TailSession({
      amqpUrl: 'amqp://u:p@h:1/v',
      plans: [plan('consume')],
      output: 'json',
      paint: (_c, t) => t,
      previewWidth: 80,
      prefetch: 100,
      out,
      log: (l) => logs.push(l),
      unreadCapacity: 1000,
    })
    await session.start()
    const ch = channelOf()
    for (let i = 1; i <= 20; i++) ch.deliver(body(i))
    await waitFor(() => text().split('\n').length > 20, {timeoutMs: 2000})
    await waitFor(() => ch.ackedUpTo > 0, {timeoutMs: 2000})
    // up to 1000 bytes (about 4 lines) may still sit in the pipe unread: those are not acked yet
    expect(ch.ackedUpTo).toBeGreaterThanOrEqual(14)
    expect(ch.ackedUpTo).toBeLessThan(20)
    session.stop('signal')
    const summary = await session.done
    // the reader is still there: what it was handed is its to read
    expect(ch.ackedUpTo).toBe(20)
    expect(summary).toMatchObject({messages: 20, requeued: 0, reason: 'signal'})
  })

  it('a reader that goes away keeps nothing it may not have read: those go back to the queue', async () => {
    const {out} = sink()
    const session = new TailSession({
      amqpUrl: 'amqp://u:p@h:1/v',
      plans: [plan('consume')],
      output: 'json',
      paint: (_c, t) => t,
      previewWidth: 80,
      prefetch: 100,
      out,
      log: () => undefined,
      unreadCapacity: 1000,
    })
    await session.start()
    const ch = channelOf()
    for (let i = 1; i <= 20; i++) ch.deliver(body(i))
    await waitFor(() => ch.ackedUpTo > 0, {timeoutMs: 2000})
    out.destroy(Object.assign(new Error('write EPIPE'), {code: 'EPIPE'}))
    const summary = await session.done
    expect(summary.reason).toBe('output-closed')
    expect(ch.ackedUpTo).toBeLessThan(20)
    expect(ch.requeued).toBe(20 - ch.ackedUpTo)
    expect(summary.requeued).toBe(20 - ch.ackedUpTo)
  })

  it('--consume widens its window when a pipe holds more messages than the prefetch, instead of stalling', async () => {
    const {out} = sink()
    const session = new TailSession({
      amqpUrl: 'amqp://u:p@h:1/v',
      plans: [plan('consume')],
      output: 'json',
      paint: (_c, t) => t,
      previewWidth: 80,
      prefetch: 10,
      out,
      log: () => undefined,
      unreadCapacity: 1_000_000,
    })
    await session.start()
    const ch = channelOf()
    expect(ch.prefetchCount).toBe(10)
    for (let i = 1; i <= 10; i++) ch.deliver(body(i))
    await waitFor(() => ch.prefetchCount === 20, {timeoutMs: 2000})
    expect(ch.ackedUpTo).toBe(0)
    session.stop('signal')
    await session.done
  })

  it('reconnects with the shared backoff and re-declares an evt.tap. queue', async () => {
    const {out, text} = sink()
    const logs: string[] = []
    const session = new TailSession({
      amqpUrl: 'amqp://u:p@h:1/v',
      plans: [plan('tap')],
      output: 'json',
      paint: (_c, t) => t,
      previewWidth: 80,
      prefetch: 100,
      out,
      log: (l) => logs.push(l),
      backoff: {initialMs: 5, maxMs: 20},
    })
    await session.start()
    expect(channelOf(0).queues[0].name).toMatch(/^evt\.tap\.[0-9a-f]{12}$/)
    broker.down = true
    broker.connections[0].drop()
    await waitFor(() => broker.connectAttempts >= 3, {timeoutMs: 2000})
    broker.down = false
    await waitFor(() => logs.some((l) => l.startsWith('reconnected')), {timeoutMs: 2000})
    const ch = channelOf(broker.connections.length - 1)
    expect(ch.queues[0].name).toMatch(/^evt\.tap\./)
    expect(ch.bindings).toEqual([{queue: ch.queues[0].name, exchange: 'ex', routingKey: '#'}])
    ch.deliver(body(1))
    await waitFor(() => text().includes('evt_1'), {timeoutMs: 2000})
    session.stop('signal')
    expect(await session.done).toMatchObject({reconnects: 1, messages: 1})
  })

  it('a firehose tap shows the publishes routed to its queue as the messages they report', async () => {
    const {out, text} = sink()
    const session = new TailSession({
      amqpUrl: 'amqp://u:p@h:1/v',
      plans: [
        plan('tap', {
          firehose: {queue: 'hello'},
          bindings: [{exchange: 'amq.rabbitmq.trace', routingKey: 'publish.', arguments: {}}],
        }),
      ],
      output: 'json',
      paint: (_c, t) => t,
      previewWidth: 80,
      prefetch: 100,
      out,
      log: () => undefined,
    })
    await session.start()
    const ch = channelOf()
    const trace = (queue: string, content: string) =>
      ch.deliver(
        content,
        {exchange: 'amq.rabbitmq.trace', routingKey: 'publish.'},
        {
          headers: {
            exchange_name: '',
            routing_keys: [queue],
            routed_queues: [queue],
            properties: {content_type: 'text/plain', message_id: 'm1', headers: {a: 1}},
          },
        },
      )
    trace('other', 'not mine')
    trace('hello', 'Hello World!')
    await waitFor(() => ch.ackedUpTo === 2, {timeoutMs: 2000})
    session.stop('signal')
    await session.done
    const lines = text().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0])).toMatchObject({
      exchange: '',
      routingKey: 'hello',
      properties: {contentType: 'text/plain', messageId: 'm1'},
      headers: {a: 1},
      bodyEncoding: 'utf8',
      body: 'Hello World!',
    })
  })

  it('a direct tap binds keys bound while it runs', async () => {
    const {out} = sink()
    let keys = ['a']
    const logs: string[] = []
    const session = new TailSession({
      amqpUrl: 'amqp://u:p@h:1/v',
      plans: [
        plan('tap', {
          target: {kind: 'exchange', vhost: 'v', name: 'dx', type: 'direct', live: true},
          bindings: [{exchange: 'dx', routingKey: 'a', arguments: {}}],
          followDirect: true,
        }),
      ],
      output: 'json',
      paint: (_c, t) => t,
      previewWidth: 80,
      prefetch: 100,
      out,
      log: (l) => logs.push(l),
      directKeys: async () => keys,
      followEveryMs: 5,
    })
    await session.start()
    keys = ['a', 'b']
    const ch = channelOf()
    await waitFor(() => ch.bindings.some((b) => b.routingKey === 'b'), {timeoutMs: 2000})
    expect(ch.bindings.filter((b) => b.routingKey === 'a')).toHaveLength(1)
    expect(logs.join('\n')).toContain('"b"')
    session.stop('signal')
    await session.done
  })
})
