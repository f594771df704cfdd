import {randomBytes} from 'node:crypto'
import {once} from 'node:events'
import type {Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options} from 'amqplib'
import {connectAmqp} from '../amqp/connect.js'
import {maskUrl, withVhost} from '../config/url.js'
import {CheckFailedError} from '../errors.js'
import {ManagementClient} from '../management/client.js'
import {sleep} from '../util/time.js'
import type {BenchOptions} from './options.js'
import {LatencyRecorder, type LatencySummary, ratePerSecond, round3} from './stats.js'
import type {ThresholdResult} from './thresholds.js'

export const BENCH_EXCHANGE = 'evt.bench'
export const BENCH_QUEUE = 'evt.bench'
export const BENCH_ROUTING_KEY = 'bench'
/** Where the send time travels when the body must stay intact (catalogue events). */
export const SENT_AT_HEADER = 'x-evt-sent-at'

/** One second of the run: rates over that second and the latency of what was consumed in it. */
export interface BenchSample {
  /** Seconds since the start at the end of this sample (one decimal; the last one may be a part-second). */
  second: number
  published: number
  confirmed: number
  consumed: number
  p50: number
  p99: number
}

export interface BenchReport {
  settings: BenchOptions
  payload: {kind: 'random' | 'event'; event?: string; bytes: number}
  vhost: string
  broker: {url: string; rabbitmqVersion?: string; erlangVersion?: string}
  interrupted: boolean
  counts: {published: number; confirmed: number; nacked: number; consumed: number}
  /** Seconds from the start to the last publish, confirm and consume. */
  seconds: {total: number; publish: number; confirm: number; consume: number}
  /** msg/s over those spans, all producers (or consumers) together. */
  rates: {publish: number; confirm: number; consume: number}
  /** Publish → consume, from the send time carried in each message (ms). Null without consumers. */
  latency: LatencySummary | null
  /** Publish → broker confirm, per delivery tag (ms). Null without confirms. */
  confirmLatency: LatencySummary | null
  series: BenchSample[]
  thresholds: ThresholdResult[]
  passed: boolean
}

export interface BenchTarget {
  amqpUrl: string
  managementUrl: string
  /** A cluster's other nodes: producers and consumers are spread over every node, as clients of a cluster are. */
  otherNodeUrls?: string[]
}

export interface BenchHooks {
  /** Called once a second with the last second's figures. */
  onSample?: (sample: BenchSample) => void
  /** Stop early (Ctrl-C): the report covers what ran. */
  signal?: AbortSignal
  /** Bodies to send round-robin instead of random bytes (catalogue events). */
  eventBodies?: {event: string; bodies: Buffer[]}
  /** Give up when nothing moves for this long (default 30 s). */
  stallMs?: number
  /** After --duration, wait this long at most for consumers to drain the queue (default 10 s). */
  drainMs?: number
}

const now = (): number => performance.timeOrigin + performance.now()

interface Totals {
  published: number
  confirmed: number
  nacked: number
  consumed: number
  lastPublishAt: number
  lastConfirmAt: number
  lastConsumeAt: number
}

/**
 * `evt bench`: producers and consumers in one process, in a throwaway vhost that is deleted afterwards.
 * Hot paths allocate nothing per message beyond what amqplib does: one body per producer whose first
 * 8 bytes are overwritten with the send time, confirm times in a ring indexed by delivery tag.
 */
export async function runBench(
  options: BenchOptions,
  target: BenchTarget,
  hooks: BenchHooks = {},
): Promise<BenchReport> {
  const api = new ManagementClient(target.managementUrl)
  const vhost = `evt-bench-${randomBytes(4).toString('hex')}`
  const overviewAnswer = api.overview().catch(() => undefined)
  const connections: ChannelModel[] = []
  const timers: NodeJS.Timeout[] = []
  try {
    // Inside the try: a vhost created but not given permissions is deleted too.
    await api.createVhost(vhost)
    const overview = await overviewAnswer
    const urls = [target.amqpUrl, ...(target.otherNodeUrls ?? [])].map((u) => withVhost(u, vhost))
    // Connection k goes to node k mod N: on a cluster, producer i and consumer i land on different nodes.
    const open = async (name: string, k = 0) => {
      const c = await connectAmqp(urls[k % urls.length], {connectionName: name})
      connections.push(c)
      return c
    }
    await declareTopology(await open('evt bench setup'), options)

    const totals: Totals = {
      published: 0,
      confirmed: 0,
      nacked: 0,
      consumed: 0,
      lastPublishAt: 0,
      lastConfirmAt: 0,
      lastConsumeAt: 0,
    }
    const latency = new LatencyRecorder()
    const latencyWindow = new LatencyRecorder()
    const confirmLatency = options.confirm > 0 ? new LatencyRecorder() : undefined

    // Any connection or channel failure ends the run with that error.
    let fail!: (err: unknown) => void
    const failed = new Promise<never>((_, reject) => {
      fail = reject
    })
    failed.catch(() => undefined)

    let consumeTarget = options.count ?? Number.POSITIVE_INFINITY
    let consumedAll!: () => void
    const allConsumed = new Promise<void>((resolve) => {
      consumedAll = resolve
    })
    const consumers = await Promise.all(
      Array.from({length: options.consumers}, async (_, i) => {
        const conn = await open(`evt bench consumer ${i + 1}`, i)
        const ch = await conn.createChannel()
        watch(conn, ch, fail)
        if (options.prefetch > 0) await ch.prefetch(options.prefetch)
        return startConsumer(ch, options, hooks.eventBodies !== undefined, (sentAt, at) => {
          const ms = at - sentAt
          latency.recordMs(ms)
          latencyWindow.recordMs(ms)
          totals.lastConsumeAt = at
          if (++totals.consumed >= consumeTarget) consumedAll()
        })
      }),
    )

    const producers = await Promise.all(
      Array.from({length: options.producers}, async (_, i) => {
        const conn = await open(`evt bench producer ${i + 1}`, i + 1)
        const ch = options.confirm > 0 ? await conn.createConfirmChannel() : await conn.createChannel()
        watch(conn, ch, fail)
        return new Producer(ch, options, i, totals, confirmLatency, hooks.eventBodies)
      }),
    )

    let stopPublishing = false
    const start = now()
    let interrupted = false
    const onAbort = () => {
      interrupted = true
      stopPublishing = true
      consumedAll()
    }
    hooks.signal?.addEventListener('abort', onAbort, {once: true})
    if (hooks.signal?.aborted) onAbort()

    // Once a second: the live line and the chart's data; also the stall guard.
    const series: BenchSample[] = []
    let last = {at: start, published: 0, confirmed: 0, consumed: 0}
    let lastProgressAt = start
    // A slow --rate is not a stall: allow three message intervals when that is longer.
    const stallMs = Math.max(hooks.stallMs ?? 30_000, options.rate > 0 ? 3000 / options.rate : 0)
    const takeSample = (at: number): BenchSample => {
      const dt = (at - last.at) / 1000
      const sample: BenchSample = {
        second: Math.round((at - start) / 100) / 10,
        published: Math.round((totals.published - last.published) / dt),
        confirmed: Math.round((totals.confirmed - last.confirmed) / dt),
        consumed: Math.round((totals.consumed - last.consumed) / dt),
        p50: round3(latencyWindow.percentileMs(50)),
        p99: round3(latencyWindow.percentileMs(99)),
      }
      latencyWindow.reset()
      last = {at, published: totals.published, confirmed: totals.confirmed, consumed: totals.consumed}
      series.push(sample)
      return sample
    }
    timers.push(
      setInterval(() => {
        const at = now()
        const moved =
          totals.published !== last.published ||
          totals.confirmed !== last.confirmed ||
          totals.consumed !== last.consumed
        if (moved) lastProgressAt = at
        else if (at - lastProgressAt > stallMs) {
          stopPublishing = true
          fail(
            new CheckFailedError(
              `the run stalled: nothing was published, confirmed or consumed for ${Math.round(stallMs / 1000)} s (published ${totals.published}, confirmed ${totals.confirmed}, consumed ${totals.consumed})`,
              'Check the broker (disk or memory alarm? `evt status`) and the --rate / --confirm settings',
            ),
          )
        }
        const sample = takeSample(at)
        hooks.onSample?.(sample)
      }, 1000),
    )
    if (options.durationSeconds !== undefined) {
      timers.push(
        setTimeout(() => {
          stopPublishing = true
        }, options.durationSeconds * 1000),
      )
    }

    const shares = splitCount(options.count, options.producers)
    await Promise.race([Promise.all(producers.map((p, i) => p.run(shares[i], () => stopPublishing))), failed])
    if (options.consumers > 0) {
      // Nacked messages never reach the queue: do not wait for them.
      consumeTarget = Math.min(consumeTarget, totals.published - totals.nacked)
      if (totals.consumed >= consumeTarget) consumedAll()
      const drainLimit = options.count === undefined ? (hooks.drainMs ?? 10_000) : undefined
      const drained =
        drainLimit === undefined
          ? []
          : [
              new Promise<void>((resolve) => {
                timers.push(setTimeout(resolve, drainLimit))
              }),
            ]
      await Promise.race([allConsumed, failed, ...drained])
    }
    const end = now()
    for (const t of timers) clearInterval(t)
    // The last part-second, so the chart covers the whole run.
    if (end - last.at > 200) takeSample(end)
    for (const c of consumers) c.flush()

    const secondsTo = (t: number) => (t > 0 ? round3((t - start) / 1000) : 0)
    const seconds = {
      total: round3((end - start) / 1000),
      publish: secondsTo(totals.lastPublishAt),
      confirm: secondsTo(totals.lastConfirmAt),
      consume: secondsTo(totals.lastConsumeAt),
    }
    return {
      settings: options,
      payload: hooks.eventBodies
        ? {kind: 'event', event: hooks.eventBodies.event, bytes: averageLength(hooks.eventBodies.bodies)}
        : {kind: 'random', bytes: options.size},
      vhost,
      broker: {
        url: maskUrl(target.amqpUrl),
        rabbitmqVersion: overview?.rabbitmq_version,
        erlangVersion: overview?.erlang_version,
      },
      interrupted,
      counts: {
        published: totals.published,
        confirmed: totals.confirmed,
        nacked: totals.nacked,
        consumed: totals.consumed,
      },
      seconds,
      rates: {
        publish: Math.round(ratePerSecond(totals.published, seconds.publish)),
        confirm: Math.round(ratePerSecond(totals.confirmed, seconds.confirm)),
        consume: Math.round(ratePerSecond(totals.consumed, seconds.consume)),
      },
      latency: options.consumers > 0 ? latency.summary() : null,
      confirmLatency: confirmLatency ? confirmLatency.summary() : null,
      series,
      thresholds: [],
      passed: true,
    }
  } finally {
    for (const t of timers) clearInterval(t)
    await Promise.allSettled(connections.map((c) => c.close()))
    await api.deleteVhost(vhost).catch(() => undefined)
  }
}

async function declareTopology(conn: ChannelModel, options: BenchOptions): Promise<void> {
  const ch = await conn.createChannel()
  await ch.assertExchange(BENCH_EXCHANGE, options.exchangeType, {durable: true})
  await ch.assertQueue(BENCH_QUEUE, {durable: true, arguments: {'x-queue-type': options.queueType}})
  await ch.bindQueue(BENCH_QUEUE, BENCH_EXCHANGE, BENCH_ROUTING_KEY)
  await ch.close()
}

function watch(conn: ChannelModel, ch: Channel, fail: (err: unknown) => void): void {
  const onError = (err: unknown) => fail(err)
  conn.on('error', onError)
  ch.on('error', onError)
  ch.on('close', () => fail(new Error('a benchmark channel closed unexpectedly')))
}

/** Split a total count over producers as evenly as possible. */
export function splitCount(count: number | undefined, producers: number): (number | undefined)[] {
  if (count === undefined) return Array.from({length: producers}, () => undefined)
  const base = Math.floor(count / producers)
  const extra = count % producers
  return Array.from({length: producers}, (_, i) => base + (i < extra ? 1 : 0))
}

function averageLength(bodies: Buffer[]): number {
  return bodies.length === 0 ? 0 : Math.round(bodies.reduce((n, b) => n + b.length, 0) / bodies.length)
}

interface ConsumerHandle {
  /** Ack what is still pending (the last partial multi-ack batch). */
  flush(): void
}

async function startConsumer(
  ch: Channel,
  options: BenchOptions,
  sentAtInHeader: boolean,
  onDelivery: (sentAt: number, at: number) => void,
): Promise<ConsumerHandle> {
  let unacked = 0
  let lastMsg: ConsumeMessage | undefined
  const multiAck = options.multiAck
  await ch.consume(BENCH_QUEUE, (msg) => {
    if (msg === null) return
    const at = now()
    const sentAt = sentAtInHeader ? Number(msg.properties.headers?.[SENT_AT_HEADER]) : msg.content.readDoubleLE(0)
    if (++unacked >= multiAck) {
      ch.ack(msg, multiAck > 1)
      unacked = 0
      lastMsg = undefined
    } else lastMsg = msg
    onDelivery(sentAt, at)
  })
  return {
    flush() {
      if (lastMsg && unacked > 0) {
        try {
          ch.ack(lastMsg, true)
        } catch {
          // the channel is already gone; the vhost is deleted next anyway
        }
      }
      unacked = 0
      lastMsg = undefined
    },
  }
}

class Producer {
  private readonly confirmCh?: ConfirmChannel
  /** Send times indexed by delivery tag modulo the ring size. */
  private readonly sentAt: Float64Array
  private readonly confirmed: Uint8Array
  private readonly ringSize: number
  private nextTag = 1
  /** Lowest delivery tag not yet confirmed. */
  private lwm = 1
  private wake?: () => void
  private readonly body: Buffer
  private readonly bodies?: Buffer[]
  private readonly publishOptions: Options.Publish
  private readonly headers?: Record<string, number>

  constructor(
    private readonly ch: Channel,
    private readonly options: BenchOptions,
    index: number,
    private readonly totals: Totals,
    private readonly confirmLatency: LatencyRecorder | undefined,
    events?: {bodies: Buffer[]},
  ) {
    this.ringSize = Math.max(1, options.confirm)
    this.sentAt = new Float64Array(this.ringSize)
    this.confirmed = new Uint8Array(this.ringSize)
    this.body = randomBytes(options.size)
    this.publishOptions = {persistent: options.persistent}
    if (events) {
      // Rotate through the pool from a different place in each producer.
      this.bodies = events.bodies
        .slice(index % events.bodies.length)
        .concat(events.bodies.slice(0, index % events.bodies.length))
      this.headers = {[SENT_AT_HEADER]: 0}
      this.publishOptions = {persistent: options.persistent, contentType: 'application/json', headers: this.headers}
    }
    if (options.confirm > 0) {
      this.confirmCh = ch as ConfirmChannel
      ch.on('ack', (f: {deliveryTag: number; multiple: boolean}) => this.onConfirm(f.deliveryTag, f.multiple, false))
      ch.on('nack', (f: {deliveryTag: number; multiple: boolean}) => this.onConfirm(f.deliveryTag, f.multiple, true))
    }
  }

  private onConfirm(tag: number, multiple: boolean, nack: boolean): void {
    const at = now()
    const from = multiple ? this.lwm : tag
    for (let t = from; t <= tag; t++) {
      const slot = t % this.ringSize
      if (this.confirmed[slot] === 1 || t < this.lwm) continue
      this.confirmed[slot] = 1
      this.confirmLatency?.recordMs(at - this.sentAt[slot])
      if (nack) this.totals.nacked++
      else this.totals.confirmed++
    }
    while (this.lwm < this.nextTag && this.confirmed[this.lwm % this.ringSize] === 1) {
      this.confirmed[this.lwm % this.ringSize] = 0
      this.lwm++
    }
    this.totals.lastConfirmAt = at
    const wake = this.wake
    if (wake && this.nextTag - this.lwm < this.options.confirm) {
      this.wake = undefined
      wake()
    }
  }

  private windowFull(): boolean {
    return this.confirmCh !== undefined && this.nextTag - this.lwm >= this.options.confirm
  }

  /** Publish `quota` messages (or until told to stop), then wait for outstanding confirms. */
  async run(quota: number | undefined, stop: () => boolean): Promise<void> {
    const {ch, options, totals, publishOptions, headers, bodies} = this
    const intervalMs = options.rate > 0 ? 1000 / options.rate : 0
    const started = now()
    let sent = 0
    while (!stop() && (quota === undefined || sent < quota)) {
      if (this.windowFull()) {
        await new Promise<void>((resolve) => {
          this.wake = resolve
        })
        continue
      }
      if (intervalMs > 0) {
        const wait = started + sent * intervalMs - now()
        if (wait >= 1) {
          await sleep(wait)
          continue
        }
      }
      const body = bodies ? bodies[sent % bodies.length] : this.body
      const at = now()
      if (headers) headers[SENT_AT_HEADER] = at
      else body.writeDoubleLE(at, 0)
      if (this.confirmCh) this.sentAt[this.nextTag % this.ringSize] = at
      this.nextTag++
      const ok = ch.publish(BENCH_EXCHANGE, BENCH_ROUTING_KEY, body, publishOptions)
      sent++
      totals.published++
      totals.lastPublishAt = at
      if (!ok) await once(ch, 'drain')
      // Let deliveries, confirms and the once-a-second sampler in even when the socket keeps up.
      else if ((sent & 0xff) === 0) await new Promise<void>((resolve) => setImmediate(resolve))
    }
    while (this.confirmCh && this.lwm < this.nextTag) {
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
    }
    if (!this.confirmCh && sent > 0) {
      // Without confirms a publish is only written to the socket: one round trip behind the last one
      // means the broker has them all, so the publish rate is not flattered by what is still buffered.
      await ch.checkExchange(BENCH_EXCHANGE)
      totals.lastPublishAt = now()
    }
  }
}
