import type {Channel, ConsumeMessage, Message, Options} from 'amqplib'
import {UsageError} from '../../errors.js'
import {type ScenarioContext, sleep} from '../context.js'
import {Spec} from '../spec.js'

/** declare: exchanges, queues (server-named with name "", several with copies, bound with bind) and bindings. */
export async function declare(ctx: ScenarioContext, spec: Spec): Promise<{queues: string[]; exchanges: string[]}> {
  const ch = await ctx.channel()
  const queues: string[] = []
  const exchanges: string[] = []
  try {
    for (const [i, raw] of spec.list('exchanges').entries()) {
      const e = Spec.of(raw, `${spec.where}.exchanges[${i}]`)
      const name = e.str('name')
      await ch.assertExchange(name, e.str('type', 'direct'), {
        durable: e.bool('durable', true),
        autoDelete: e.bool('autoDelete'),
        internal: e.bool('internal'),
        arguments: e.obj('arguments'),
      })
      exchanges.push(name)
    }
    for (const [i, raw] of spec.list('queues').entries()) {
      const q = Spec.of(raw, `${spec.where}.queues[${i}]`)
      const copies = q.num('copies', 1)
      for (let c = 0; c < copies; c++) {
        const ok = await ch.assertQueue(q.str('name', ''), {
          durable: q.bool('durable', true),
          exclusive: q.bool('exclusive'),
          autoDelete: q.bool('autoDelete'),
          arguments: q.obj('arguments'),
        })
        queues.push(ok.queue)
        for (const [j, b] of q.list('bind').entries()) {
          await bind(ch, Spec.of(b, `${q.where}.bind[${j}]`), ok.queue)
        }
      }
    }
    for (const [i, raw] of spec.list('bindings').entries()) {
      const b = Spec.of(raw, `${spec.where}.bindings[${i}]`)
      if (b.has('destinationExchange')) {
        for (const key of keysOf(b))
          await ch.bindExchange(b.str('destinationExchange'), b.str('exchange'), key, b.obj('arguments'))
      } else await bind(ch, b, b.str('queue'))
    }
  } finally {
    await ctx.closeChannel(ch)
  }
  return {queues, exchanges}
}

function keysOf(b: Spec): string[] {
  const keys = [...b.strList('routingKey'), ...b.strList('routingKeys')]
  return keys.length > 0 ? keys : ['']
}

async function bind(ch: Channel, b: Spec, queue: string): Promise<void> {
  for (const key of keysOf(b)) await ch.bindQueue(queue, b.str('exchange'), key, b.obj('arguments'))
}

export interface PublishResult {
  published: number
  acked: number
  nacked: number
  returned: number
  /** Message ids of the returned (unroutable mandatory) messages. */
  returnedIds: string[]
  seconds: number
  ratePerSec: number
}

/**
 * publish: `count` messages per routing key, each with messageId `<idPrefix><n>` and a JSON body
 * {seq, routingKey}. confirm: false | true (a window of `window` in flight) | each (wait for every confirm).
 */
export async function publish(ctx: ScenarioContext, spec: Spec): Promise<PublishResult> {
  const exchange = spec.str('exchange', '')
  const keys = [...spec.strList('routingKey'), ...spec.strList('routingKeys')]
  if (keys.length === 0) keys.push('')
  const count = spec.num('count', 1)
  const confirmRaw = spec.raw.confirm
  const confirm = confirmRaw === 'each' ? 'each' : confirmRaw === true || confirmRaw === 'true' ? 'window' : 'none'
  const window = Math.max(1, spec.num('window', 500))
  const mandatory = spec.bool('mandatory')
  const idPrefix = spec.str('idPrefix', 'm')
  const base: Options.Publish = {
    persistent: spec.bool('persistent'),
    mandatory,
    contentType: 'application/json',
    expiration: spec.optStr('expiration'),
    headers: spec.obj('headers'),
  }
  const body = spec.obj('body')
  const ch = confirm === 'none' ? await ctx.channel() : await ctx.confirmChannel()
  let channelError: Error | undefined
  ch.on('error', (err: Error) => {
    channelError = err
  })
  const returnedIds: string[] = []
  ch.on('return', (msg: ConsumeMessage) => returnedIds.push(String(msg.properties.messageId)))
  let acked = 0
  let nacked = 0
  let outstanding = 0
  let wake: (() => void) | undefined
  const started = performance.now()
  let seq = 0
  try {
    for (const key of keys) {
      for (let i = 0; i < count; i++) {
        if (channelError) throw channelError
        const messageId = `${idPrefix}${seq}`
        const content = Buffer.from(JSON.stringify(body ?? {seq, routingKey: key}))
        const options = {...base, messageId}
        seq++
        if (confirm === 'none') {
          if (!ch.publish(exchange, key, content, options)) await new Promise((r) => ch.once('drain', r))
          continue
        }
        outstanding++
        const settled = new Promise<void>((resolveOne) => {
          ;(ch as import('amqplib').ConfirmChannel).publish(exchange, key, content, options, (err) => {
            if (err) nacked++
            else acked++
            outstanding--
            wake?.()
            resolveOne()
          })
        })
        if (confirm === 'each') await settled
        while (outstanding >= window && !channelError) await new Promise<void>((r) => (wake = r))
      }
    }
    if (confirm !== 'none') await (ch as import('amqplib').ConfirmChannel).waitForConfirms()
    else if (mandatory) await sleep(200) // returns have no ack to wait for
    if (channelError) throw channelError
  } catch (err) {
    throw channelError ?? err
  } finally {
    await ctx.closeChannel(ch)
  }
  const seconds = (performance.now() - started) / 1000
  return {
    published: seq,
    acked,
    nacked,
    returned: returnedIds.length,
    returnedIds,
    seconds,
    ratePerSec: Math.round(seq / Math.max(seconds, 0.001)),
  }
}

export type AckMode = 'ack' | 'nack-requeue' | 'requeue-always' | 'reject' | 'nack' | 'none'
const ACK_MODES: AckMode[] = ['ack', 'nack-requeue', 'requeue-always', 'reject', 'nack', 'none']

export interface DeliveryFacts {
  routingKey: string
  redelivered: boolean
  messageId?: string
  headers: Record<string, unknown>
  body: unknown
}

export interface ConsumeResult {
  deliveries: number
  /** Deliveries that ended the message's stay in the queue (acked, rejected or nacked without requeue). */
  settled: number
  unique: number
  duplicates: number
  redelivered: number
  /** The most deliveries any one message had (a poison message that loops shows here). */
  maxDeliveriesOfOneMessage: number
  perConsumer: number[]
  min: number
  max: number
  fairShare: number
  /** The largest distance of a consumer's share from the fair share, in percent of it. */
  maxDeviationPct: number
  routingKeys: string[]
  first?: DeliveryFacts
  timedOut: boolean
  seconds: number
}

/**
 * consume: K consumers (one channel each, consumer i on queues[i % n]), prefetch, an ack mode, an optional
 * slow consumer, until `count` messages are settled or no delivery came for `idleMs` (or `timeoutMs`).
 * nack-requeue nacks a first delivery with requeue and acks the redelivery; requeue-always never lets go.
 */
export async function consume(ctx: ScenarioContext, spec: Spec): Promise<ConsumeResult> {
  const queues = spec.queues()
  const consumers = spec.num('consumers', queues.length)
  const prefetch = spec.num('prefetch', 10)
  const ack = spec.str('ack', 'ack') as AckMode
  if (!ACK_MODES.includes(ack)) throw new UsageError(`${spec.where}.ack: one of ${ACK_MODES.join(', ')}`)
  const slowConsumer = spec.has('slowConsumer') ? spec.num('slowConsumer') : -1
  const slowDelayMs = spec.num('slowDelayMs', 0)
  const count = spec.has('count') ? spec.num('count') : undefined
  const idleMs = spec.num('idleMs', count === undefined ? 500 : 0)
  const timeoutMs = spec.num('timeoutMs', 30_000)

  const perConsumer = new Array<number>(consumers).fill(0)
  const settledPerId = new Map<string, number>()
  const deliveriesPerId = new Map<string, number>()
  const routingKeys: string[] = []
  let deliveries = 0
  let settled = 0
  let redelivered = 0
  let first: DeliveryFacts | undefined
  let lastActivity = Date.now()
  const started = Date.now()
  let stopping = false
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => (done = r))
  const chains: Promise<void>[] = new Array(consumers).fill(Promise.resolve())
  const channels: {ch: Channel; tag: string}[] = []
  let timer: NodeJS.Timeout | undefined

  const handle = (i: number, ch: Channel, msg: ConsumeMessage) => {
    deliveries++
    lastActivity = Date.now()
    const id = String(msg.properties.messageId ?? `${msg.fields.routingKey}:${msg.content.toString('utf8')}`)
    deliveriesPerId.set(id, (deliveriesPerId.get(id) ?? 0) + 1)
    if (msg.fields.redelivered) redelivered++
    first ??= facts(msg)
    const finish = () => {
      perConsumer[i]++
      settled++
      settledPerId.set(id, (settledPerId.get(id) ?? 0) + 1)
      routingKeys.push(msg.fields.routingKey)
      if (count !== undefined && settled >= count) done()
    }
    const act = () => {
      if (stopping && ack !== 'none') return
      try {
        if (ack === 'none') finish()
        else if (ack === 'ack' || (ack === 'nack-requeue' && msg.fields.redelivered)) {
          ch.ack(msg)
          finish()
        } else if (ack === 'nack-requeue' || ack === 'requeue-always') ch.nack(msg, false, true)
        else if (ack === 'reject') {
          ch.reject(msg, false)
          finish()
        } else {
          ch.nack(msg, false, false)
          finish()
        }
      } catch {
        // the channel closed under us (the consume is stopping)
      }
    }
    if (i === slowConsumer && slowDelayMs > 0) chains[i] = chains[i].then(() => sleep(slowDelayMs)).then(act)
    else act()
  }

  try {
    const chs: Channel[] = []
    for (let i = 0; i < consumers; i++) {
      const ch = await ctx.channel()
      if (prefetch > 0) await ch.prefetch(prefetch)
      chs.push(ch)
    }
    // Subscribe all at once: one by one, the first would drain a backlog before the others arrive.
    await Promise.all(
      chs.map(async (ch, i) => {
        const {consumerTag} = await ch.consume(
          queues[i % queues.length],
          (msg) => {
            if (msg) handle(i, ch, msg)
          },
          {noAck: ack === 'none'},
        )
        channels.push({ch, tag: consumerTag})
      }),
    )
    lastActivity = Date.now()
    timer = setInterval(() => {
      const now = Date.now()
      if (now - started > timeoutMs) done()
      else if (idleMs > 0 && now - lastActivity >= idleMs) done()
    }, 10)
    await finished
    await Promise.all(chains)
  } finally {
    clearInterval(timer)
    stopping = true
    for (const {ch, tag} of channels) {
      await ch.cancel(tag).catch(() => {})
      await ctx.closeChannel(ch)
    }
  }
  const fairShare = settled / Math.max(consumers, 1)
  const maxDeviationPct =
    fairShare === 0 ? 0 : Math.max(...perConsumer.map((n) => Math.abs(n - fairShare) / fairShare)) * 100
  let duplicates = 0
  for (const n of settledPerId.values()) duplicates += n - 1
  return {
    deliveries,
    settled,
    unique: settledPerId.size,
    duplicates,
    redelivered,
    maxDeliveriesOfOneMessage: Math.max(0, ...deliveriesPerId.values()),
    perConsumer,
    min: Math.min(...perConsumer),
    max: Math.max(...perConsumer),
    fairShare: Math.round(fairShare * 100) / 100,
    maxDeviationPct: Math.round(maxDeviationPct * 10) / 10,
    routingKeys: routingKeys.sort(),
    first,
    timedOut: count !== undefined && settled < count,
    seconds: (Date.now() - started) / 1000,
  }
}

function facts(msg: Message): DeliveryFacts {
  const text = msg.content.toString('utf8')
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // keep the text
  }
  return {
    routingKey: msg.fields.routingKey,
    redelivered: msg.fields.redelivered,
    messageId: msg.properties.messageId,
    headers: (msg.properties.headers ?? {}) as Record<string, unknown>,
    body,
  }
}

export interface GetResult {
  count: number
  routingKeys: string[]
  messageIds: string[]
  first?: DeliveryFacts
}

/** get: take every message from a queue (basic.get, ack each) up to `max`; exact, not sampled. */
export async function get(ctx: ScenarioContext, spec: Spec): Promise<GetResult | Record<string, GetResult>> {
  const max = spec.num('max', 100_000)
  const out: Record<string, GetResult> = {}
  const ch = await ctx.channel()
  try {
    for (const queue of spec.queues()) {
      const r: GetResult = {count: 0, routingKeys: [], messageIds: []}
      while (r.count < max) {
        const msg = await ch.get(queue, {noAck: false})
        if (!msg) break
        ch.ack(msg)
        r.count++
        r.routingKeys.push(msg.fields.routingKey)
        r.messageIds.push(String(msg.properties.messageId))
        r.first ??= facts(msg)
      }
      r.routingKeys.sort()
      out[queue] = r
    }
  } finally {
    await ctx.closeChannel(ch)
  }
  const names = spec.queues()
  return names.length === 1 && !spec.has('queues') ? out[names[0]] : out
}

export interface QueueState {
  exists: boolean
  messages: number
  consumers: number
}

/** check-queue: whether a queue exists and its exact depth (AMQP queue.declare passive, not management stats). */
export async function checkQueue(ctx: ScenarioContext, spec: Spec): Promise<QueueState | Record<string, QueueState>> {
  const out: Record<string, QueueState> = {}
  for (const queue of spec.queues()) out[queue] = await queueState(ctx, queue)
  const names = spec.queues()
  return names.length === 1 && !spec.has('queues') ? out[names[0]] : out
}

export async function queueState(ctx: ScenarioContext, queue: string): Promise<QueueState> {
  // A missing queue closes the channel with 404: use one channel per question.
  const ch = await ctx.channel()
  try {
    const ok = await ch.checkQueue(queue)
    return {exists: true, messages: ok.messageCount, consumers: ok.consumerCount}
  } catch (err) {
    if (/NOT_FOUND|404/.test(String((err as Error).message))) return {exists: false, messages: 0, consumers: 0}
    throw err
  } finally {
    await ctx.closeChannel(ch)
  }
}
