import type {Channel, ChannelModel, ConsumeMessage, Message, Options} from 'amqplib'
import {AMQP_PROPERTY_KEYS} from '../../amqp/properties.js'
import {UsageError} from '../../errors.js'
import {sleep} from '../../util/time.js'
import type {ScenarioContext} from '../context.js'
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

/** The AMQP basic properties a publish step may set (amqplib's names). */
export const PROPERTY_KEYS = ['headers', ...AMQP_PROPERTY_KEYS] as const

/**
 * The body of a publish: `body` text is sent as text/plain, any other `body` (a mapping, a list, a number)
 * as JSON, `bodyBase64` as binary (application/octet-stream); without either, a JSON {seq, routingKey}.
 */
export function bodyOf(spec: Spec): {content?: Buffer; contentType: string} {
  if (spec.has('bodyBase64')) {
    const text = spec.str('bodyBase64')
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text.replace(/\s+/g, '')))
      throw new UsageError(`${spec.where}.bodyBase64: not base64 text`)
    return {content: Buffer.from(text, 'base64'), contentType: 'application/octet-stream'}
  }
  const body = spec.raw.body
  if (body === undefined) return {contentType: 'application/json'}
  if (typeof body === 'string') return {content: Buffer.from(body, 'utf8'), contentType: 'text/plain'}
  return {content: Buffer.from(JSON.stringify(body)), contentType: 'application/json'}
}

/** properties: {...} plus the short forms persistent, expiration, headers. */
export function propertiesOf(spec: Spec, contentType: string): Options.Publish {
  const props = spec.obj('properties') ?? {}
  for (const key of Object.keys(props)) {
    if (!(PROPERTY_KEYS as readonly string[]).includes(key))
      throw new UsageError(`${spec.where}.properties.${key}: not an AMQP property (${PROPERTY_KEYS.join(', ')})`)
  }
  const p = new Spec(props, `${spec.where}.properties`)
  const out: Options.Publish = {
    contentType: p.optStr('contentType') ?? contentType,
    contentEncoding: p.optStr('contentEncoding'),
    headers: {...(p.obj('headers') ?? {}), ...(spec.obj('headers') ?? {})},
    deliveryMode: p.has('deliveryMode') ? p.num('deliveryMode') : undefined,
    persistent: spec.has('persistent') ? spec.bool('persistent') : undefined,
    priority: p.has('priority') ? p.num('priority') : undefined,
    correlationId: p.optStr('correlationId'),
    replyTo: p.optStr('replyTo'),
    expiration: spec.optStr('expiration') ?? p.optStr('expiration'),
    messageId: p.optStr('messageId'),
    timestamp: p.has('timestamp') ? p.num('timestamp') : undefined,
    type: p.optStr('type'),
    userId: p.optStr('userId'),
    appId: p.optStr('appId'),
  }
  for (const key of Object.keys(out) as (keyof Options.Publish)[]) if (out[key] === undefined) delete out[key]
  return out
}

/**
 * publish: `count` messages per routing key, each with messageId `<idPrefix><n>` (unless properties give
 * one) and the body of bodyOf(). confirm: false | true (a window of `window` in flight) | each (wait for
 * every confirm). A mandatory publish always uses confirms: a return arrives before its message's ack, so
 * waiting for the acks is waiting for the returns.
 */
export async function publish(ctx: ScenarioContext, spec: Spec): Promise<PublishResult> {
  const exchange = spec.str('exchange', '')
  const keys = [...spec.strList('routingKey'), ...spec.strList('routingKeys')]
  if (keys.length === 0) keys.push('')
  const count = spec.num('count', 1)
  const confirmRaw = spec.raw.confirm
  const mandatory = spec.bool('mandatory')
  const confirm =
    confirmRaw === 'each' ? 'each' : confirmRaw === true || confirmRaw === 'true' || mandatory ? 'window' : 'none'
  const window = Math.max(1, spec.num('window', 500))
  const idPrefix = spec.str('idPrefix', 'm')
  const {content: fixed, contentType} = bodyOf(spec)
  const base: Options.Publish = {...propertiesOf(spec, contentType), mandatory}
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
        const messageId = base.messageId ?? `${idPrefix}${seq}`
        const content = fixed ?? Buffer.from(JSON.stringify({seq, routingKey: key}))
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
    // waitForConfirms rejects when any publish was nacked; the nacks are counted, for the checks to judge.
    if (confirm !== 'none')
      await (ch as import('amqplib').ConfirmChannel).waitForConfirms().catch((err) => {
        if (nacked === 0) throw err
      })
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

export type AckMode =
  | 'ack'
  | 'nack-requeue'
  | 'requeue-always'
  | 'reject-requeue-always'
  | 'reject'
  | 'nack'
  | 'none'
  | 'hold'
const ACK_MODES: AckMode[] = [
  'ack',
  'nack-requeue',
  'requeue-always',
  'reject-requeue-always',
  'reject',
  'nack',
  'none',
  'hold',
]

/** What a step records of one delivered message. */
export interface DeliveryFacts {
  exchange: string
  routingKey: string
  redelivered: boolean
  messageId?: string
  /** Every AMQP property the message carries (contentType, correlationId, priority, ...). */
  properties: Record<string, unknown>
  headers: Record<string, unknown>
  /** The body parsed as JSON when it is JSON, else its text. */
  body: unknown
  bodyBase64: string
  size: number
  /** The x-delivery-count header a quorum queue sets on redeliveries (0 when absent). */
  deliveryCount: number
  /** The x-death header's first entry (the latest death), if any. */
  death?: Record<string, unknown>
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
  /** Deliveries (settled or not) per consumer. */
  deliveredPerConsumer: number[]
  min: number
  max: number
  fairShare: number
  /** The largest distance of a consumer's share from the fair share, in percent of it. */
  maxDeviationPct: number
  routingKeys: string[]
  first?: DeliveryFacts
  last?: DeliveryFacts
  /** The first 200 deliveries, in order. */
  messages: DeliveryFacts[]
  /** Consumers that crashed (dropped their connection before acking). */
  crashed: number
  /** Messages a crashed consumer held unacked. */
  crashedHeld: number
  /** Of those, how many another consumer then settled, and how many of those came flagged redelivered. */
  crashedSettledElsewhere: number
  crashedRedeliveredFlagged: number
  timedOut: boolean
  seconds: number
  /** What the nested `publish` sent once every consumer was subscribed. */
  published?: PublishResult
}

/** A number for every consumer: `workMs: 100` for all, `workMs: [500, 0, 0]` per consumer. */
function perConsumerMs(spec: Spec, consumers: number): number[] {
  const raw = spec.raw.workMs
  const out = new Array<number>(consumers).fill(0)
  if (Array.isArray(raw)) {
    for (const [i, v] of raw.entries()) out[i] = Number(v) || 0
  } else if (raw !== undefined) out.fill(spec.num('workMs'))
  // The older form: slowConsumer (an index) sleeping slowDelayMs before each ack.
  if (spec.has('slowConsumer') && spec.num('slowConsumer') >= 0)
    out[spec.num('slowConsumer')] = spec.num('slowDelayMs', 0)
  return out
}

/**
 * consume: K consumers (one channel each, consumer i on queues[i % n]), prefetch, an ack mode, work time per
 * message (workMs), an optional crash (consumer i drops its connection, unacked, at its nth delivery), until
 * `count` messages are settled, or `deliveries` deliveries were handled, or no delivery came for `idleMs`, or
 * `timeoutMs` passed.
 * nack-requeue nacks a first delivery with requeue and acks the redelivery; requeue-always never lets go;
 * hold never acks (the messages stay unacked until the step ends and its channels close).
 */
export async function consume(ctx: ScenarioContext, spec: Spec): Promise<ConsumeResult> {
  const queues = spec.queues()
  const consumers = spec.num('consumers', queues.length)
  const prefetch = spec.num('prefetch', 10)
  const ack = spec.str('ack', 'ack') as AckMode
  if (!ACK_MODES.includes(ack)) throw new UsageError(`${spec.where}.ack: one of ${ACK_MODES.join(', ')}`)
  const workMs = perConsumerMs(spec, consumers)
  const crashSpec = spec.obj('crash')
  const crash = crashSpec ? new Spec(crashSpec, `${spec.where}.crash`) : undefined
  const crashConsumer = crash ? crash.num('consumer', 0) : -1
  const crashAfter = crash ? crash.num('after', 1) : 0
  const count = spec.has('count') ? spec.num('count') : undefined
  const maxDeliveries = spec.has('deliveries') ? spec.num('deliveries') : undefined
  const idleMs = spec.num('idleMs', count === undefined && maxDeliveries === undefined ? 500 : 0)
  const timeoutMs = spec.num('timeoutMs', 30_000)
  const exclusive = spec.bool('exclusive')
  const args = spec.obj('arguments')
  const subscribeMode = spec.str('subscribe', 'together')
  if (subscribeMode !== 'together' && subscribeMode !== 'in-order')
    throw new UsageError(`${spec.where}.subscribe: together or in-order`)
  const subscribeInOrder = subscribeMode === 'in-order'
  const publishSpec = spec.obj('publish')
  let published: PublishResult | undefined

  const perConsumer = new Array<number>(consumers).fill(0)
  const deliveredPerConsumer = new Array<number>(consumers).fill(0)
  const settledPerId = new Map<string, number>()
  const deliveriesPerId = new Map<string, number>()
  const routingKeys: string[] = []
  const messages: DeliveryFacts[] = []
  const crashedIds = new Set<string>()
  let crashed = 0
  let crashedSettledElsewhere = 0
  let crashedRedeliveredFlagged = 0
  let deliveries = 0
  let settled = 0
  let redelivered = 0
  let last: DeliveryFacts | undefined
  let lastActivity = Date.now()
  const started = Date.now()
  let stopping = false
  let stopAfter = false
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => (done = r))
  const chains: Promise<void>[] = new Array(consumers).fill(Promise.resolve())
  const channels: {ch: Channel; tag: string}[] = []
  const dead = new Set<number>()
  let timer: NodeJS.Timeout | undefined

  const handle = (i: number, ch: Channel, msg: ConsumeMessage, conn?: ChannelModel) => {
    if (dead.has(i) || (maxDeliveries !== undefined && deliveries >= maxDeliveries)) return
    deliveries++
    if (maxDeliveries !== undefined && deliveries >= maxDeliveries) stopAfter = true
    deliveredPerConsumer[i]++
    lastActivity = Date.now()
    const id = String(msg.properties.messageId ?? `${msg.fields.routingKey}:${msg.content.toString('utf8')}`)
    deliveriesPerId.set(id, (deliveriesPerId.get(id) ?? 0) + 1)
    if (msg.fields.redelivered) redelivered++
    last = facts(msg)
    if (messages.length < 200) messages.push(last)
    if (i === crashConsumer && conn) {
      crashedIds.add(id)
      if (deliveredPerConsumer[i] >= crashAfter) {
        // The worker dies before it acks: its connection goes, and every message it held is requeued.
        dead.add(i)
        crashed++
        void conn.close().catch(() => {})
      }
      return
    }
    const finish = () => {
      perConsumer[i]++
      settled++
      settledPerId.set(id, (settledPerId.get(id) ?? 0) + 1)
      routingKeys.push(msg.fields.routingKey)
      if (crashedIds.has(id)) {
        crashedSettledElsewhere++
        if (msg.fields.redelivered) crashedRedeliveredFlagged++
      }
      if (count !== undefined && settled >= count) done()
    }
    const act = () => {
      if (stopping && ack !== 'none') return
      try {
        if (ack === 'none') finish()
        else if (ack === 'hold') return
        else if (ack === 'ack' || (ack === 'nack-requeue' && msg.fields.redelivered)) {
          ch.ack(msg)
          finish()
        } else if (ack === 'nack-requeue' || ack === 'requeue-always') ch.nack(msg, false, true)
        else if (ack === 'reject-requeue-always') ch.reject(msg, true)
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
    const settle = () => {
      act()
      if (stopAfter) done()
    }
    if (workMs[i] > 0) chains[i] = chains[i].then(() => sleep(workMs[i])).then(settle)
    else settle()
  }

  try {
    const chs: {ch: Channel; conn?: ChannelModel}[] = []
    for (let i = 0; i < consumers; i++) {
      if (i === crashConsumer) {
        const conn = await ctx.ownConnection(`crashing consumer ${i}`)
        const ch = await conn.createChannel()
        ch.on('error', () => {})
        if (prefetch > 0) await ch.prefetch(prefetch)
        chs.push({ch, conn})
        continue
      }
      const ch = await ctx.channel()
      if (prefetch > 0) await ch.prefetch(prefetch)
      chs.push({ch})
    }
    const subscribe = async ({ch, conn}: {ch: Channel; conn?: ChannelModel}, i: number) => {
      const {consumerTag} = await ch.consume(
        queues[i % queues.length],
        (msg) => {
          if (msg) handle(i, ch, msg, conn)
        },
        {noAck: ack === 'none', exclusive, arguments: args},
      )
      if (!conn) channels.push({ch, tag: consumerTag})
    }
    // The consumer that will crash subscribes first, so it surely holds messages when it dies.
    if (crashConsumer >= 0 && crashConsumer < consumers) await subscribe(chs[crashConsumer], crashConsumer)
    if (subscribeInOrder) {
      // Consumer 0 first, then 1, ...: with no prefetch limit the first takes a whole backlog, every time.
      for (const [i, c] of chs.entries()) if (i !== crashConsumer) await subscribe(c, i)
    } else {
      // The others all at once: one by one, the first would drain a backlog before the others arrive.
      await Promise.all(chs.map((c, i) => (i === crashConsumer ? undefined : subscribe(c, i))))
    }
    // Workers first, then the tasks (tutorial 2's order): who gets what no longer depends on who subscribed first.
    if (publishSpec) published = await publish(ctx, new Spec(publishSpec, `${spec.where}.publish`))
    lastActivity = Date.now()
    timer = setInterval(() => {
      const now = Date.now()
      if (now - started > timeoutMs || ctx.signal?.aborted) done()
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
    deliveredPerConsumer,
    min: Math.min(...perConsumer),
    max: Math.max(...perConsumer),
    fairShare: Math.round(fairShare * 100) / 100,
    maxDeviationPct: Math.round(maxDeviationPct * 10) / 10,
    routingKeys: routingKeys.sort(),
    first: messages[0],
    last,
    messages,
    crashed,
    // What the consumer held when it crashed; a consumer that never crashed held nothing lost.
    crashedHeld: crashed > 0 ? crashedIds.size : 0,
    crashedSettledElsewhere,
    crashedRedeliveredFlagged,
    timedOut: count !== undefined && settled < count,
    seconds: (Date.now() - started) / 1000,
    ...(published ? {published} : {}),
  }
}

export function facts(msg: Message): DeliveryFacts {
  const text = msg.content.toString('utf8')
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // keep the text
  }
  const properties: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(msg.properties)) if (v !== undefined && k !== 'headers') properties[k] = v
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>
  const deaths = headers['x-death']
  return {
    exchange: msg.fields.exchange,
    routingKey: msg.fields.routingKey,
    redelivered: msg.fields.redelivered,
    messageId: msg.properties.messageId,
    properties,
    headers,
    body,
    bodyBase64: msg.content.toString('base64'),
    size: msg.content.length,
    deliveryCount: Number(headers['x-delivery-count'] ?? 0),
    death: Array.isArray(deaths) ? (deaths[0] as Record<string, unknown>) : undefined,
  }
}

export interface GetResult {
  count: number
  routingKeys: string[]
  messageIds: string[]
  first?: DeliveryFacts
  last?: DeliveryFacts
  /** The first 200 messages, in queue order. */
  messages: DeliveryFacts[]
}

/** get: take every message from a queue (basic.get, ack each) up to `max`; exact, not sampled. */
export async function get(ctx: ScenarioContext, spec: Spec): Promise<GetResult | Record<string, GetResult>> {
  const max = spec.num('max', 100_000)
  const out: Record<string, GetResult> = {}
  const ch = await ctx.channel()
  try {
    for (const queue of spec.queues()) {
      const r: GetResult = {count: 0, routingKeys: [], messageIds: [], messages: []}
      while (r.count < max) {
        const msg = await ch.get(queue, {noAck: false})
        if (!msg) break
        ch.ack(msg)
        r.count++
        r.routingKeys.push(msg.fields.routingKey)
        r.messageIds.push(String(msg.properties.messageId))
        r.last = facts(msg)
        r.first ??= r.last
        if (r.messages.length < 200) r.messages.push(r.last)
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
