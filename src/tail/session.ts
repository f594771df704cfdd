import {randomBytes} from 'node:crypto'
import type {Channel, ChannelModel, ConsumeMessage} from 'amqplib'
import {connectFirst} from '../amqp/connect.js'
import {maskUrlsIn, withVhost} from '../config/url.js'
import type {Paint} from '../ui/terminal.js'
import {retryWithBackoff} from '../util/backoff.js'
import type {Predicate} from './filters.js'
import {
  type Columns,
  decodeBody,
  expandedMessage,
  isSingleLine,
  ndjsonHead,
  ndjsonLine,
  prettyLine,
  type TailDelivery,
  typeOf,
  unwrapTrace,
} from './format.js'
import {TAP_PREFIX, type TapMode, type TapPlan} from './plan.js'

/**
 * The running tail: one AMQP connection per vhost, one channel per target, a bounded prefetch,
 * and a single output buffer. Flow control is the ack: a batch of messages is acked (multiple)
 * only once its text has been handed to the output stream, and nothing is flushed while the
 * stream asks us to wait ('drain'), so at most --prefetch messages per target are ever held.
 */

export type OutputMode = 'json' | 'pretty' | 'expand'
export type StopReason = 'count' | 'timeout' | 'idle' | 'signal' | 'output-closed' | 'cancelled'

export interface TailOptions {
  /** Broker URL; each vhost's connection is derived from it. */
  amqpUrl: string
  /** A cluster's other nodes: where taps are set up again when their node does not answer. */
  otherNodeUrls?: string[]
  plans: TapPlan[]
  output: OutputMode
  paint: Paint
  previewWidth: number
  lineWidth?: number
  routingFilter?: (routingKey: string) => boolean
  where?: Predicate
  count?: number
  timeoutSeconds?: number
  idleSeconds?: number
  prefetch: number
  out: NodeJS.WritableStream
  /** Status lines (stderr). */
  log: (line: string) => void
  backoff?: {initialMs: number; maxMs: number}
  /**
   * Bytes the reader of `out` may hold unread (a pipe's or socket's buffer). With --consume a message is acked
   * only once this many bytes were written after it, so a reader that exits early (`| head -5`) never loses a
   * message it did not read. 0 for a terminal or a file.
   */
  unreadCapacity?: number
  /** --save: NDJSON records, exact bodies, to this stream. */
  save?: NodeJS.WritableStream
  /** The tap queue's name, per plan (the firehose lease), else evt.tap.<random>. */
  queueNames?: Map<TapPlan, string>
  /** Direct exchanges followed: the keys bound now (polled). */
  directKeys?: (vhost: string, exchange: string) => Promise<string[]>
  /** How often to look for new direct bindings (default 1000 ms). */
  followEveryMs?: number
  /** Awaited after the connections are closed, before `done` resolves (restores the tracer). */
  afterClose?: () => Promise<void>
}

export interface TailSummary {
  reason: StopReason
  /** Messages that matched the filters and were written. */
  messages: number
  /** Messages delivered by the broker (matching or not). */
  delivered: number
  seconds: number
  perSecond: number
  /** Whether --count was reached (null without --count). */
  countMet: boolean | null
  byRoutingKey: Record<string, number>
  byType: Record<string, number>
  reconnects: number
  /** --consume / --requeue: messages put back in their queue when the tail stopped. */
  requeued: number
  /** --save: records written to the file. */
  saved?: number
}

interface Reader {
  plan: TapPlan
  mode: TapMode
  channel?: Channel
  consumerTag?: string
  /** The newest message to ack (multiple) at the next flush. */
  toAck?: ConsumeMessage
  /** Deliveries on the current channel, and how many of them are acked. */
  seen: number
  acked: number
  pendingAckSeen: number
  /** --consume: written messages waiting for proof that the reader took them (end offset in the output). */
  unproven: {msg: ConsumeMessage; end: number; seen: number}[]
  /** Direct exchange keys bound on the tap queue. */
  boundKeys: Set<string>
  queueName?: string
  /** --consume: the channel's current prefetch window. */
  window: number
}

interface VhostGroup {
  vhost: string
  url: string
  readers: Reader[]
  conn?: ChannelModel
}

const MAX_KEYS = 1000
const FLUSH_AT = 256 * 1024
const ACK_EVERY = 100

export class TailSession {
  private readonly groups: VhostGroup[]
  private readonly chunk = new OutputBuffer()
  private readonly touched = new Set<Reader>()
  private flushScheduled = false
  private sinceFlush = 0
  private readonly ackEvery: number
  private blocked = false
  private pendingWrites = 0
  private stopping = false
  private countReached = false
  private matched = 0
  private delivered = 0
  private reconnects = 0
  private requeued = 0
  private startedAt = 0
  private lastMatchAt = 0
  private readonly byKey = new Map<string, number>()
  private readonly byType = new Map<string, number>()
  private timers: NodeJS.Timeout[] = []
  private reason: StopReason = 'signal'
  private resolveDone!: (s: TailSummary) => void
  readonly done: Promise<TailSummary>

  constructor(private readonly options: TailOptions) {
    this.ackEvery = Math.max(1, Math.min(ACK_EVERY, Math.floor(options.prefetch / 2)))
    const byVhost = new Map<string, VhostGroup>()
    for (const plan of options.plans) {
      const vhost = plan.target.vhost
      let group = byVhost.get(vhost)
      if (!group) {
        group = {vhost, url: withVhost(options.amqpUrl, vhost), readers: []}
        byVhost.set(vhost, group)
      }
      group.readers.push({
        plan,
        mode: plan.mode,
        seen: 0,
        acked: 0,
        pendingAckSeen: 0,
        unproven: [],
        boundKeys: new Set(),
        window: options.prefetch,
      })
    }
    this.groups = [...byVhost.values()]
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve
    })
    options.out.on('error', () => {
      this.outputClosed = true
      this.stop('output-closed')
    })
    this.slack = options.unreadCapacity ?? 0
  }

  private readonly columns: Columns = {}
  private outputClosed = false
  private readonly slack: number
  /** Bytes handed to the output, and bytes the output accepted (write callbacks without error). */
  private written = 0
  private accepted = 0
  private readonly saveChunk = new OutputBuffer()
  private saved = 0

  /** Connect and declare every tap; throws (nothing left open) when the first attempt fails. */
  async start(): Promise<void> {
    try {
      for (const group of this.groups) await this.connectGroup(group)
    } catch (err) {
      await Promise.all(this.groups.map((g) => g.conn?.close().catch(() => undefined)))
      for (const g of this.groups) g.conn = undefined
      throw err
    }
    this.startedAt = Date.now()
    this.lastMatchAt = this.startedAt
    const {timeoutSeconds, idleSeconds} = this.options
    if (timeoutSeconds !== undefined) {
      this.timers.push(setTimeout(() => this.stop('timeout'), timeoutSeconds * 1000))
    }
    if (idleSeconds !== undefined) {
      const idleMs = idleSeconds * 1000
      this.timers.push(
        setInterval(
          () => {
            if (Date.now() - this.lastMatchAt >= idleMs) this.stop('idle')
          },
          Math.max(20, Math.min(250, idleMs / 4)),
        ),
      )
    }
    if (this.options.directKeys && this.groups.some((g) => g.readers.some((r) => r.plan.followDirect))) {
      const every = this.options.followEveryMs ?? 1000
      this.timers.push(setInterval(() => void this.followDirect(), every))
    }
  }

  /** Bind the tap queue to direct-exchange keys bound since the last look. */
  private following = false
  private async followDirect(): Promise<void> {
    if (this.following || this.stopping) return
    this.following = true
    try {
      for (const group of this.groups) {
        for (const r of group.readers) {
          if (!r.plan.followDirect || !r.channel || !r.queueName) continue
          const exchange = r.plan.target.name
          const keys = await this.options.directKeys?.(group.vhost, exchange)
          for (const key of keys ?? []) {
            if (r.boundKeys.has(key) || !r.channel) continue
            await r.channel.bindQueue(r.queueName, exchange, key)
            r.boundKeys.add(key)
            this.options.log(`now also tapping ${r.plan.label} key "${key}" (bound since the tail started)`)
          }
        }
      }
    } catch {
      // the next look tries again; a lost connection is handled by reconnect
    } finally {
      this.following = false
    }
  }

  private async connectGroup(group: VhostGroup): Promise<void> {
    const others = (this.options.otherNodeUrls ?? []).map((u) => withVhost(u, group.vhost))
    const conn = await connectFirst([group.url, ...others], {connectionName: 'evt tail'})
    try {
      for (const reader of group.readers) await this.openReader(conn, reader)
    } catch (err) {
      await conn.close().catch(() => undefined)
      throw err
    }
    group.conn = conn
    conn.on('error', () => undefined)
    conn.on('close', (err?: Error) => {
      if (group.conn !== conn) return
      group.conn = undefined
      for (const r of group.readers) r.channel = undefined
      if (!this.stopping) void this.reconnect(group, err)
    })
  }

  private async openReader(conn: ChannelModel, reader: Reader): Promise<void> {
    const ch = await conn.createChannel()
    ch.on('error', () => undefined)
    ch.on('close', () => {
      // A channel closed by the broker (queue or exchange deleted ...): start over on a new connection.
      if (reader.channel === ch && !this.stopping) conn.close().catch(() => undefined)
    })
    // --consume: a channel-wide window, which (unlike a consumer's) can be widened while consuming.
    reader.window = this.options.prefetch
    await ch.prefetch(this.options.prefetch, reader.mode === 'consume')
    const {plan} = reader
    let queue: string
    if (reader.mode === 'tap') {
      const name = this.options.queueNames?.get(plan) ?? `${TAP_PREFIX}${randomBytes(6).toString('hex')}`
      const q = await ch.assertQueue(name, {exclusive: true, autoDelete: true, durable: false})
      reader.boundKeys.clear()
      for (const b of plan.bindings) {
        await ch.bindQueue(q.queue, b.exchange, b.routingKey, b.arguments)
        if (plan.followDirect) reader.boundKeys.add(b.routingKey)
      }
      queue = q.queue
      reader.queueName = q.queue
    } else {
      await ch.checkQueue(plan.target.name)
      queue = plan.target.name
    }
    reader.channel = ch
    reader.seen = 0
    reader.acked = 0
    reader.pendingAckSeen = 0
    reader.toAck = undefined
    reader.unproven = []
    const {consumerTag} = await ch.consume(queue, (msg) => this.onMessage(reader, ch, msg), {
      noAck: false,
      exclusive: reader.mode === 'tap',
    })
    reader.consumerTag = consumerTag
  }

  private async reconnect(group: VhostGroup, err?: Error): Promise<void> {
    const why = err?.message ? `: ${maskUrlsIn(err.message.split('\n')[0])}` : ''
    const consuming = group.readers.some((r) => r.mode !== 'tap')
    this.options.log(
      `connection to vhost ${group.vhost} lost${why}; reconnecting${
        consuming ? ' (messages delivered but not acked go back to their queue and will be delivered again)' : ''
      }`,
    )
    const {initialMs, maxMs} = this.options.backoff ?? {initialMs: 250, maxMs: 5000}
    const outcome = await retryWithBackoff(() => this.connectGroup(group), {
      initialMs,
      maxMs,
      signal: this.abort.signal,
      stopped: () => this.stopping,
    })
    if (!outcome.ok) return
    this.reconnects++
    this.options.log(
      `reconnected to vhost ${group.vhost}, tap re-declared (messages published while disconnected are not seen${
        consuming ? '; consumed queues kept theirs' : ''
      })`,
    )
    if (this.stopping) await group.conn?.close().catch(() => undefined)
  }

  private readonly abort = new AbortController()

  /** The hot path: filter, format, buffer; acks follow the write. */
  private onMessage(reader: Reader, ch: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      if (!this.stopping) {
        this.options.log(`the broker cancelled the consumer of ${reader.plan.label} (was the queue deleted?)`)
        this.stop('cancelled')
      }
      return
    }
    if (reader.channel !== ch) return
    reader.seen++
    if (this.stopping) return
    const o = this.options
    const firehose = reader.plan.firehose
    // A trace message: keep the publishes the tap is about, and show the message it reports.
    const delivery: TailDelivery | undefined = firehose === undefined ? msg : unwrapTrace(msg, firehose)
    if (delivery === undefined) {
      this.markAck(reader, msg)
      this.scheduleFlush()
      return
    }
    this.delivered++
    const fields = delivery.fields
    let pass = o.routingFilter === undefined || o.routingFilter(fields.routingKey)
    if (pass && !this.countReached) {
      const body = decodeBody(delivery.content)
      const vhost = reader.plan.target.vhost
      if (o.where !== undefined) {
        pass = o.where({
          body: body.value,
          headers: delivery.properties.headers,
          properties: delivery.properties,
          routingKey: fields.routingKey,
          exchange: fields.exchange,
          vhost,
        })
      }
      if (pass) {
        const now = Date.now()
        this.matched++
        this.lastMatchAt = now
        if (o.save) {
          this.saveChunk.string(ndjsonLine(this.matched, now, vhost, reader.plan.label, delivery, body, true))
          this.saved++
        }
        if (o.output === 'json') {
          if (body.json && isSingleLine(body)) {
            // The body's own bytes go out as they came: no re-encoding of the largest part of the line.
            this.chunk.string(ndjsonHead(this.matched, now, vhost, reader.plan.label, delivery, true))
            this.chunk.bytes(delivery.content)
            this.chunk.string('}\n')
          } else this.chunk.string(ndjsonLine(this.matched, now, vhost, reader.plan.label, delivery, body))
        } else if (o.output === 'pretty')
          this.chunk.string(
            prettyLine(now, vhost, delivery, body, {
              paint: o.paint,
              previewWidth: o.previewWidth,
              lineWidth: o.lineWidth,
              columns: this.columns,
            }),
          )
        else this.chunk.string(expandedMessage(now, vhost, reader.plan.label, delivery, body, o.paint))
        bump(this.byKey, fields.routingKey)
        bump(this.byType, typeOf(body, delivery.properties))
        if (reader.mode === 'consume') {
          reader.unproven.push({msg, end: this.written + this.chunk.length, seen: reader.seen})
        } else if (reader.mode !== 'browse') this.markAck(reader, msg)
        if (o.count !== undefined && this.matched >= o.count) {
          this.countReached = true
          setImmediate(() => this.stop('count'))
        }
      }
    }
    // Tap copies that do not match are dropped (acked); a consumed queue's are left to be requeued.
    if (!pass && reader.mode === 'tap') this.markAck(reader, msg)
    this.scheduleFlush()
  }

  private scheduleFlush(): void {
    // Flush (and so ack) every ACK_EVERY messages: one ack per prefetch window would stall the broker.
    if (++this.sinceFlush >= this.ackEvery || this.chunk.length >= FLUSH_AT) this.flush()
    else if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flushSoon)
    }
  }

  /** --consume: ack what the reader has provably taken (at most `slack` bytes can sit unread after it). */
  private ackProven(allWritten: boolean): void {
    const limit = allWritten ? this.accepted : this.accepted - this.slack
    for (const group of this.groups) {
      for (const r of group.readers) {
        if (r.mode !== 'consume' || r.unproven.length === 0 || !r.channel) continue
        let last: {msg: ConsumeMessage; seen: number} | undefined
        let i = 0
        while (i < r.unproven.length && r.unproven[i].end <= limit) last = r.unproven[i++]
        if (last) {
          r.unproven.splice(0, i)
          try {
            r.channel.ack(last.msg, true)
            r.acked = last.seen
          } catch {
            // channel closing; the broker requeues what was not acked
          }
        }
        this.widenWindow(r)
      }
    }
  }

  /**
   * Written, accepted, yet unproven messages count against the prefetch: with small messages a pipe's buffer can
   * hold more than --prefetch of them, and the broker would stop delivering before any could be proven read.
   * When everything is written and the unproven half-fill the window, the (channel-wide) window grows by
   * --prefetch. It grows only while the reader keeps up, so it stays bounded by the pipe's buffer.
   */
  private widenWindow(r: Reader): void {
    if (this.blocked || this.pendingWrites > 0 || this.chunk.length > 0 || !r.channel || this.stopping) return
    if (r.unproven.length * 2 < r.window) return
    r.window += this.options.prefetch
    r.channel.prefetch(r.window, true).catch(() => undefined)
  }

  private markAck(reader: Reader, msg: ConsumeMessage): void {
    reader.toAck = msg
    reader.pendingAckSeen = reader.seen
    this.touched.add(reader)
  }

  private readonly flushSoon = () => {
    this.flushScheduled = false
    this.flush()
  }

  private flush(): void {
    if (this.blocked) return
    this.sinceFlush = 0
    const acks: [Reader, Channel | undefined, ConsumeMessage, number][] = []
    for (const r of this.touched) {
      if (r.toAck) acks.push([r, r.channel, r.toAck, r.pendingAckSeen])
      r.toAck = undefined
    }
    this.touched.clear()
    const saved = this.saveChunk.take()
    if (saved !== undefined) this.options.save?.write(saved)
    const text = this.chunk.take()
    if (text === undefined) {
      this.ack(acks)
      return
    }
    if (this.outputClosed) return
    this.pendingWrites++
    this.written += text.length
    const ok = this.options.out.write(text, (err) => {
      this.pendingWrites--
      // Not written (the reader went away): leave them unacked, so a consumed queue gets them back.
      if (!err) {
        this.accepted += text.length
        this.ack(acks)
        this.ackProven(false)
      }
      if (this.pendingWrites === 0) this.wakeDrain?.()
    })
    if (!ok) {
      this.blocked = true
      this.options.out.once('drain', () => {
        this.blocked = false
        if (this.chunk.length > 0 || this.touched.size > 0) this.flush()
      })
    }
  }

  private ack(acks: [Reader, Channel | undefined, ConsumeMessage, number][]): void {
    for (const [reader, ch, msg, seen] of acks) {
      // Tags belong to their channel: after a reconnect the old ones are void (the broker requeued them).
      if (ch === undefined || reader.channel !== ch) continue
      try {
        ch.ack(msg, true)
        reader.acked = seen
      } catch {
        // channel closing; the broker requeues what was not acked
      }
    }
  }

  private wakeDrain?: () => void

  private async drained(limitMs: number): Promise<void> {
    this.flush()
    if (this.pendingWrites === 0 && !this.blocked) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, limitMs)
      this.wakeDrain = () => {
        if (this.pendingWrites === 0 && !this.blocked) {
          clearTimeout(timer)
          resolve()
        }
      }
      this.options.out.once('drain', () => {
        this.flush()
        this.wakeDrain?.()
      })
    })
    this.wakeDrain = undefined
  }

  /** Stop consuming, write and ack what was received, requeue the rest, close. Idempotent. */
  stop(reason: StopReason): void {
    if (this.stopping) return
    this.stopping = true
    this.reason = reason
    void this.shutdown()
  }

  private async shutdown(): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    this.abort.abort()
    const readers = this.groups.flatMap((g) => g.readers)
    await Promise.all(
      readers.map(async (r) => {
        if (r.channel && r.consumerTag) await r.channel.cancel(r.consumerTag).catch(() => undefined)
      }),
    )
    await this.drained(2000)
    // The reader is still there: what it was handed is its to read. A reader that went away keeps nothing
    // it may not have read: those messages go back to their queue.
    if (!this.outputClosed) this.ackProven(true)
    for (const r of readers) {
      if (r.mode === 'tap' || !r.channel) continue
      try {
        r.channel.nackAll(true)
        this.requeued += r.seen - r.acked
      } catch {
        // connection already gone: the broker requeued them itself
      }
    }
    // Close each channel first: amqplib multiplexes channels, so a connection close could overtake the
    // last acks of a channel, and the broker would requeue messages that were already written.
    await Promise.all(readers.map((r) => r.channel?.close().catch(() => undefined)))
    await Promise.all(
      this.groups.map(async (g) => {
        const conn = g.conn
        g.conn = undefined
        await conn?.close().catch(() => undefined)
      }),
    )
    if (this.options.save) {
      const save = this.options.save
      await new Promise<void>((resolve) => save.end(() => resolve()))
    }
    try {
      await this.options.afterClose?.()
    } catch (err) {
      this.options.log(`could not restore the vhost's tracing setting: ${String((err as Error).message ?? err)}`)
    }
    this.resolveDone(this.summary())
  }

  private summary(): TailSummary {
    const seconds = Math.max(0, (Date.now() - (this.startedAt || Date.now())) / 1000)
    return {
      reason: this.reason,
      messages: this.matched,
      delivered: this.delivered,
      seconds: Math.round(seconds * 1000) / 1000,
      perSecond: seconds > 0 ? roundRate(this.matched / seconds) : 0,
      countMet: this.options.count === undefined ? null : this.matched >= this.options.count,
      byRoutingKey: Object.fromEntries([...this.byKey].sort((a, b) => b[1] - a[1])),
      byType: Object.fromEntries([...this.byType].sort((a, b) => b[1] - a[1])),
      reconnects: this.reconnects,
      requeued: this.requeued,
      ...(this.options.save ? {saved: this.saved} : {}),
    }
  }
}

/**
 * The bytes of the next write: lines are encoded straight into one buffer, and message bodies are
 * copied in as bytes. A buffer is handed to the stream whole and never reused, so a write in flight
 * cannot be overwritten; the next one is sized from the last.
 */
class OutputBuffer {
  private buf = Buffer.allocUnsafe(64 * 1024)
  length = 0

  string(s: string): void {
    this.reserve(s.length * 3)
    this.length += this.buf.write(s, this.length)
  }

  bytes(b: Buffer): void {
    this.reserve(b.length)
    this.length += b.copy(this.buf, this.length)
  }

  /** What was written since the last take (undefined when nothing was). */
  take(): Buffer | undefined {
    if (this.length === 0) return undefined
    const out = this.buf.subarray(0, this.length)
    this.buf = Buffer.allocUnsafe(Math.max(64 * 1024, this.length + (this.length >> 1)))
    this.length = 0
    return out
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n))
    this.buf.copy(bigger, 0, 0, this.length)
    this.buf = bigger
  }
}

/** 12345.6 → 12346, 3.14159 → 3.1, 0.0123 → 0.012: enough digits to be read, no more. */
function roundRate(rate: number): number {
  if (rate >= 100) return Math.round(rate)
  return Number(rate.toPrecision(2))
}

function bump(map: Map<string, number>, key: string): void {
  const n = map.get(key)
  if (n !== undefined) map.set(key, n + 1)
  else if (map.size < MAX_KEYS) map.set(key, 1)
  else map.set('(other)', (map.get('(other)') ?? 0) + 1)
}

/** Run a tail to its end (count, timeout, idle or stop()). */
export async function runTail(options: TailOptions): Promise<{session: TailSession; summary: Promise<TailSummary>}> {
  const session = new TailSession(options)
  await session.start()
  return {session, summary: session.done}
}
