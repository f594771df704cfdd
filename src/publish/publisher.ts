import type {Channel, ChannelModel, ConfirmChannel, ConsumeMessage} from 'amqplib'
import {connectFirst} from '../amqp/connect.js'
import type {AmqpPublishProperties} from '../catalogue/generate.js'
import {EventFactory, type Overrides} from '../catalogue/generate.js'
import type {EnvelopeKind, EventType} from '../catalogue/types.js'
import {maskUrl, parseAmqpUrl, withVhost} from '../config/url.js'
import {EvtError, ExitCode, UnreachableError} from '../errors.js'
import {retryWithBackoff} from '../util/backoff.js'
import {sleep} from '../util/time.js'

export interface PublishEventsOptions {
  /** AMQP URL of the broker; each type goes to its own vhost unless `vhost` is given. */
  url: string
  /** A cluster's other nodes: where a lost connection is taken up again when its node does not answer. */
  otherNodeUrls?: string[]
  /** Publish every type into this vhost instead of the type's own. */
  vhost?: string
  types: EventType[]
  /** Messages per type (default 1). */
  count?: number
  /** Messages per second over the whole run (default: as fast as confirms allow). */
  rate?: number
  seed?: number
  overrides?: Overrides
  envelope?: EnvelopeKind
  tenant?: string
  correlationId?: string
  /** Delivery mode 2 (default true). */
  persistent?: boolean
  /** Publisher confirms (default true). */
  confirm?: boolean
  /** Mandatory flag: unroutable messages come back and are counted as returned (default true). */
  mandatory?: boolean
  /** Unconfirmed messages allowed in flight (default 1000). */
  confirmWindow?: number
  /** See EventFactory: distinct payloads per type before reuse (default 1000; 0 = every message fresh). */
  dataPool?: number
  /** Give up reconnecting after this long (default 30 s); then exit 3. */
  reconnectTimeoutMs?: number
  /** Called about every 200 ms while running, and once at the end. */
  onProgress?: (progress: PublishProgress) => void
  /** Status lines (reconnecting, republished). */
  onNotice?: (message: string) => void
  /** Stop publishing new messages (Ctrl-C): in-flight confirms are still awaited and the summary says `interrupted`. */
  signal?: AbortSignal
}

export interface PublishProgress {
  total: number
  published: number
  settled: number
}

export interface TypePublishSummary {
  type: string
  name: string
  vhost: string
  exchange: string
  published: number
  /** Acked by the broker and routed to at least one queue. */
  confirmed: number
  /** Unroutable: returned by the broker (mandatory). */
  returned: number
  nacked: number
  /** Published but neither confirmed, returned nor nacked (confirms off, or lost for good). */
  unconfirmed: number
  /** Messages per second for this type (published ÷ its time). */
  rate: number
}

export interface PublishSummary {
  types: TypePublishSummary[]
  totals: Omit<TypePublishSummary, 'type' | 'name' | 'vhost' | 'exchange'>
  /** Messages sent again after a reconnect (their consumers may see duplicates). */
  republished: number
  reconnects: number
  durationMs: number
  confirm: boolean
  persistent: boolean
  mandatory: boolean
  seed?: number
  /** Stopped early by the signal: fewer messages than asked for were published. */
  interrupted: boolean
  /** Nothing returned, nacked or left unconfirmed (with confirms on), and not interrupted. */
  ok: boolean
}

interface Stats {
  type: EventType
  vhost: string
  published: number
  confirmed: number
  returned: number
  nacked: number
  firstAt: number
  lastAt: number
}

interface Pending {
  stats: Stats
  routingKey: string
  body: Buffer
  properties: AmqpPublishProperties
  /** Connection generation it was last sent on (stale confirms are ignored). */
  gen: number
}

/**
 * Publish catalogue events: a confirm window over a ConfirmChannel (Nagle off), channel backpressure
 * respected, returns and nacks counted per message, reconnect with exponential backoff and republish of
 * whatever was not confirmed. Returns the summary; it throws only for bad input (exit 2) or when the broker
 * cannot be reached or refuses the publish (exit 3, with the counts so far in `details`).
 */
/** The run's totals over its per-type rows (publish and replay report the same way). */
export function summaryTotals(types: TypePublishSummary[], durationMs: number): PublishSummary['totals'] {
  const totals = {published: 0, confirmed: 0, returned: 0, nacked: 0, unconfirmed: 0, rate: 0}
  for (const t of types) {
    totals.published += t.published
    totals.confirmed += t.confirmed
    totals.returned += t.returned
    totals.nacked += t.nacked
    totals.unconfirmed += t.unconfirmed
  }
  totals.rate = durationMs > 0 ? Math.round((totals.published * 1000) / durationMs) : totals.published
  return totals
}

export async function publishEvents(options: PublishEventsOptions): Promise<PublishSummary> {
  const run = new PublishRun(options)
  return run.execute()
}

class PublishRun {
  private readonly o: Required<
    Pick<
      PublishEventsOptions,
      'count' | 'confirm' | 'mandatory' | 'persistent' | 'confirmWindow' | 'reconnectTimeoutMs'
    >
  > &
    PublishEventsOptions
  private readonly stats: Stats[] = []
  private conn?: ChannelModel
  private ch?: Channel | ConfirmChannel
  private gen = 0
  private broken = false
  private fatal?: Error
  private closing = false
  private readonly inflight = new Set<Pending>()
  private retry: Pending[] = []
  private readonly returnedIds = new Set<string>()
  private wake?: () => void
  private republished = 0
  private reconnects = 0
  private sent = 0
  private started = 0
  private lastError: unknown

  constructor(options: PublishEventsOptions) {
    this.o = {
      count: 1,
      confirm: true,
      mandatory: true,
      persistent: true,
      confirmWindow: 1000,
      reconnectTimeoutMs: 30_000,
      ...options,
    }
  }

  private get total(): number {
    return this.o.types.length * this.o.count
  }

  private settled(): number {
    let n = 0
    for (const s of this.stats) n += s.confirmed + s.returned + s.nacked
    return n
  }

  async execute(): Promise<PublishSummary> {
    this.o.signal?.addEventListener('abort', () => this.wakeUp(), {once: true})
    const groups = new Map<string, EventType[]>()
    for (const type of this.o.types) {
      const vhost = this.o.vhost ?? type.vhost
      groups.set(vhost, [...(groups.get(vhost) ?? []), type])
    }
    // The first connection opens while the factories load faker and build their first payloads. Not with
    // overrides: every payload is checked first (a bad --set is reported at once and nothing connects).
    const [firstVhost] = groups.keys()
    const opening =
      firstVhost === undefined || this.o.overrides ? undefined : this.open(withVhost(this.o.url, firstVhost))
    opening?.catch(() => undefined)
    let factories: Map<EventType, EventFactory>
    try {
      factories = await this.createFactories()
    } catch (err) {
      void opening?.then(
        () => this.close(),
        () => undefined,
      )
      throw err
    }
    this.started = performance.now()
    const timer = this.o.onProgress ? setInterval(() => this.progress(), 200) : undefined
    try {
      await opening
      for (const [vhost, types] of groups) {
        await this.runVhost(vhost, types, factories, opening !== undefined && vhost === firstVhost)
      }
    } finally {
      if (timer) clearInterval(timer)
      await this.close()
    }
    this.progress()
    return this.summary()
  }

  private async createFactories(): Promise<Map<EventType, EventFactory>> {
    const factories = new Map<EventType, EventFactory>()
    for (const type of this.o.types) {
      const factory = await EventFactory.create(type, {
        seed: this.o.seed,
        overrides: this.o.overrides,
        envelope: this.o.envelope,
        tenant: this.o.tenant,
        correlationId: this.o.correlationId,
        persistent: this.o.persistent,
        mandatory: this.o.mandatory,
        dataPool: this.o.dataPool,
      })
      // With overrides, check every distinct payload before anything is published.
      if (this.o.overrides) factory.prepare(Math.min(this.o.count, this.o.dataPool ?? 1000))
      factories.set(type, factory)
    }
    return factories
  }

  private progress(): void {
    this.o.onProgress?.({total: this.total, published: this.sent, settled: this.settled()})
  }

  private async runVhost(vhost: string, types: EventType[], factories: Map<EventType, EventFactory>, opened: boolean) {
    const url = withVhost(this.o.url, vhost)
    if (!opened) await this.open(url)
    const interval = this.o.rate ? 1000 / this.o.rate : 0
    for (const type of types) {
      if (this.o.signal?.aborted) break
      const factory = factories.get(type) as EventFactory
      const stats: Stats = {type, vhost, published: 0, confirmed: 0, returned: 0, nacked: 0, firstAt: 0, lastAt: 0}
      this.stats.push(stats)
      for (let index = 0; index < this.o.count; ) {
        if (this.o.signal?.aborted) break
        if (this.fatal) throw this.fatalError(vhost)
        if (this.broken) {
          await this.recover(url)
          continue
        }
        if (this.o.confirm && this.inflight.size >= this.o.confirmWindow) {
          await this.waitForSlot()
          continue
        }
        if (interval > 0) {
          const due = this.started + this.sent * interval
          const ahead = due - performance.now()
          if (ahead > 1) await sleep(ahead)
        }
        const m = factory.message(index)
        if (stats.published === 0) stats.firstAt = performance.now()
        const pending: Pending = {
          stats,
          routingKey: m.routingKey,
          body: m.body,
          properties: m.properties,
          gen: this.gen,
        }
        index++
        stats.published++
        this.sent++
        // Awaiting only on backpressure: an await per message costs measurable throughput.
        if (!this.send(pending) && !this.broken) await this.waitDrain(this.ch as Channel)
      }
    }
    await this.drain(url)
    if (!this.o.confirm) await this.flushReturns()
    await this.close()
  }

  private async open(url: string): Promise<void> {
    const vhost = this.currentVhost(url)
    const others = (this.o.otherNodeUrls ?? []).map((u) => withVhost(u, vhost))
    const conn = await connectFirst([url, ...others], {connectionName: 'evt publish'})
    const gen = ++this.gen
    conn.on('error', () => {})
    conn.on('close', (err?: unknown) => {
      if (gen !== this.gen || this.closing) return
      this.broken = true
      this.lastError = err
      this.wakeUp()
    })
    let ch: Channel | ConfirmChannel
    try {
      ch = this.o.confirm ? await conn.createConfirmChannel() : await conn.createChannel()
    } catch (err) {
      await conn.close().catch(() => {})
      throw err
    }
    ch.on('error', (err: Error) => {
      // A channel error on a live connection is the broker refusing the publish (e.g. no such exchange).
      if (gen === this.gen && !this.closing) this.fatal = err
      this.wakeUp()
    })
    ch.on('close', () => {
      if (gen === this.gen && !this.closing && !this.fatal) this.broken = true
      this.wakeUp()
    })
    ch.on('return', (msg: ConsumeMessage) => {
      const id = msg.properties.messageId as string | undefined
      if (id === undefined) return
      if (this.o.confirm) this.returnedIds.add(id)
      else {
        const stats = this.stats.find(
          (s) => s.vhost === vhost && s.type.exchange === msg.fields.exchange && s.type.name === msg.properties.type,
        )
        if (stats) stats.returned++
      }
    })
    this.conn = conn
    this.ch = ch
    this.broken = false
  }

  private currentVhost(url: string): string {
    return parseAmqpUrl(url).vhost ?? '/'
  }

  private wakeUp(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private waitForSlot(): Promise<void> {
    if (this.broken || this.fatal || this.o.signal?.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      this.wake = resolve
    })
  }

  /** Hand one message to the channel; false when its buffer is full (wait for 'drain'). */
  private send(p: Pending): boolean {
    const ch = this.ch as ConfirmChannel
    const {exchange} = p.stats.type
    const gen = this.gen
    p.gen = gen
    try {
      if (!this.o.confirm) return ch.publish(exchange, p.routingKey, p.body, p.properties)
      this.inflight.add(p)
      return ch.publish(exchange, p.routingKey, p.body, p.properties, (err) => this.settle(p, gen, err))
    } catch {
      // amqplib throws once the channel is closed, possibly before its 'close' event reached us.
      this.inflight.delete(p)
      if (this.o.confirm) this.retry.push(p)
      this.broken = true
      return true
    }
  }

  private waitDrain(ch: Channel): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        ch.off('drain', done)
        ch.off('close', done)
        resolve()
      }
      ch.on('drain', done)
      ch.on('close', done)
    })
  }

  private settle(p: Pending, gen: number, err: Error | null | undefined): void {
    if (gen !== p.gen || !this.inflight.has(p)) return
    if (err && err.message !== 'message nacked') {
      // The channel closed before the broker answered: send it again after reconnecting.
      this.inflight.delete(p)
      this.retry.push(p)
      return
    }
    this.inflight.delete(p)
    const s = p.stats
    if (err) s.nacked++
    else if (this.returnedIds.delete(p.properties.messageId)) s.returned++
    else s.confirmed++
    s.lastAt = performance.now()
    if (this.inflight.size < this.o.confirmWindow) this.wakeUp()
  }

  /** Wait for every in-flight confirm, reconnecting and republishing as needed. */
  private async drain(url: string): Promise<void> {
    for (;;) {
      if (this.fatal) throw this.fatalError(this.currentVhost(url))
      if (this.broken) {
        // Interrupted while the broker is away: what is in flight is reported as not confirmed.
        if (this.o.signal?.aborted) break
        await this.recover(url)
        continue
      }
      if (this.inflight.size === 0 && this.retry.length === 0) break
      // Interrupted during a reconnect that then succeeded: nothing is resent, so nothing more will settle.
      if (this.inflight.size === 0 && this.o.signal?.aborted) break
      await this.waitForSlotEmpty()
    }
    for (const s of this.stats) if (!this.o.confirm && s.published > 0) s.lastAt = performance.now()
  }

  private waitForSlotEmpty(): Promise<void> {
    if (this.broken || this.fatal || this.inflight.size === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.wake = resolve
    })
  }

  /** Without confirms, a round trip after the last publish makes sure every basic.return has arrived. */
  private async flushReturns(): Promise<void> {
    const ch = this.ch
    const exchange = this.stats.at(-1)?.type.exchange
    if (!ch || exchange === undefined || this.broken) return
    await ch.checkExchange(exchange)
  }

  private async recover(url: string): Promise<void> {
    if (this.o.signal?.aborted) return
    // Whatever was in flight on the dead channel is unconfirmed: send it again.
    for (const p of this.inflight) this.retry.push(p)
    this.inflight.clear()
    this.returnedIds.clear()
    this.o.onNotice?.(`connection to ${maskUrl(url)} lost; reconnecting (up to ${this.o.reconnectTimeoutMs / 1000} s)`)
    // The one backoff of evt (util/backoff.ts): 500 ms doubling to 8 s, until --reconnect-timeout or Ctrl-C.
    const outcome = await retryWithBackoff(() => this.open(url), {
      initialMs: 500,
      maxMs: 8000,
      giveUpAfterMs: this.o.reconnectTimeoutMs,
      signal: this.o.signal,
    })
    if (outcome.aborted) return
    if (!outcome.ok) throw this.giveUp(url)
    this.reconnects++
    const again = this.retry
    this.retry = []
    if (again.length > 0) {
      this.o.onNotice?.(`reconnected; republishing ${again.length} unconfirmed message(s) (possible duplicates)`)
    }
    this.republished += again.length
    for (const p of again) {
      if (this.broken) {
        this.retry.push(p)
        continue
      }
      if (!this.send(p) && !this.broken) await this.waitDrain(this.ch as Channel)
    }
  }

  private giveUp(url: string): EvtError {
    const summary = this.summary()
    const unconfirmed = this.inflight.size + this.retry.length + (this.total - this.sent)
    return new EvtError(
      `lost the broker at ${maskUrl(url)} and could not reconnect within ${this.o.reconnectTimeoutMs / 1000} s: ` +
        `${summary.totals.confirmed} confirmed, ${summary.totals.returned} returned, ${summary.totals.nacked} nacked, ` +
        `${unconfirmed} not confirmed (of ${this.total})`,
      {
        exitCode: ExitCode.unreachable,
        hint: 'Check the broker (`evt status`), or allow longer with --reconnect-timeout',
        details: {...summary, notConfirmed: unconfirmed},
        cause: this.lastError,
      },
    )
  }

  private fatalError(vhost: string): EvtError {
    const msg = String(this.fatal?.message ?? this.fatal)
    const match = /no exchange '([^']+)'/.exec(msg)
    if (match)
      return new UnreachableError(
        `the broker refused the publish: exchange "${match[1]}" does not exist in vhost "${vhost}"`,
        'Provision the topology first (`evt provision`), or pass --vhost',
        this.fatal,
      )
    return new UnreachableError(`the broker refused the publish in vhost "${vhost}": ${msg}`, undefined, this.fatal)
  }

  private async close(): Promise<void> {
    const conn = this.conn
    this.conn = undefined
    this.ch = undefined
    if (!conn) return
    this.closing = true
    try {
      await conn.close()
    } catch {
      // already gone
    } finally {
      this.closing = false
    }
  }

  private summary(): PublishSummary {
    const end = performance.now()
    const types: TypePublishSummary[] = this.stats.map((s) => {
      const settled = s.confirmed + s.returned + s.nacked
      const seconds = ((s.lastAt || end) - s.firstAt) / 1000
      return {
        type: s.type.qualifiedName,
        name: s.type.name,
        vhost: s.vhost,
        exchange: s.type.exchange,
        published: s.published,
        confirmed: s.confirmed,
        returned: s.returned,
        nacked: s.nacked,
        unconfirmed: Math.max(0, s.published - settled),
        rate: seconds > 0 ? Math.round(s.published / seconds) : s.published,
      }
    })
    const durationMs = Math.round(end - this.started)
    const totals = summaryTotals(types, durationMs)
    const interrupted = Boolean(this.o.signal?.aborted)
    const ok =
      !interrupted && totals.returned === 0 && totals.nacked === 0 && (!this.o.confirm || totals.unconfirmed === 0)
    return {
      types,
      totals,
      republished: this.republished,
      reconnects: this.reconnects,
      durationMs,
      confirm: this.o.confirm,
      persistent: this.o.persistent,
      mandatory: this.o.mandatory,
      ...(this.o.seed === undefined ? {} : {seed: this.o.seed}),
      interrupted,
      ok,
    }
  }
}
