import {EventEmitter} from 'node:events'

/**
 * A fake of the parts of amqplib's ChannelModel and (Confirm)Channel that evt's stateful cores use, so their
 * logic (confirm windows, returns, nacks, reconnects) can be tested fast and deterministically. Behaviour that
 * only a broker can show (routing, persistence) is tested against a real node instead.
 */
export type Outcome = 'ack' | 'nack' | 'return'

export interface FakePublished {
  exchange: string
  routingKey: string
  body: Buffer
  properties: Record<string, unknown>
  connection: number
}

type ConfirmCallback = (err: Error | null) => void

export interface FakeDelivery {
  fields: {exchange: string; routingKey: string; redelivered: boolean; deliveryTag: number}
  properties: Record<string, unknown> & {headers?: Record<string, unknown>}
  content: Buffer
}

export class FakeBroker {
  /** What happens to the nth message published on any connection (0-based); default: ack. */
  outcome: (index: number, message: FakePublished) => Outcome = () => 'ack'
  /** Drop the connection right after the nth publish (0-based), once. */
  dropAfter?: number
  /** While true, every connect attempt fails like a broker that is down. */
  down = false
  /** Channel error for publishes to exchanges not in this set (undefined: every exchange exists). */
  exchanges?: Set<string>
  readonly published: FakePublished[] = []
  readonly connections: FakeConnection[] = []
  maxInFlight = 0
  connectAttempts = 0
  /** Called at each connect attempt, before it succeeds or fails (e.g. to abort a run mid-reconnect). */
  onConnect?: (attempt: number) => void

  async connect(): Promise<FakeConnection> {
    this.connectAttempts++
    this.onConnect?.(this.connectAttempts)
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), {code: 'ECONNREFUSED'})
    const conn = new FakeConnection(this, this.connections.length)
    this.connections.push(conn)
    return conn
  }
}

export class FakeConnection extends EventEmitter {
  readonly channels: FakeChannel[] = []
  closed = false
  constructor(
    readonly broker: FakeBroker,
    readonly index: number,
  ) {
    super()
  }
  async createConfirmChannel(): Promise<FakeChannel> {
    return this.open(true)
  }
  async createChannel(): Promise<FakeChannel> {
    return this.open(false)
  }
  private open(confirm: boolean): FakeChannel {
    const ch = new FakeChannel(this, confirm)
    this.channels.push(ch)
    return ch
  }
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const ch of this.channels) ch.closeNow()
    this.emit('close')
  }
  /** The broker goes away: callbacks of unconfirmed messages fail, channels and connection emit close. */
  drop(): void {
    if (this.closed) return
    this.closed = true
    const err = new Error('Connection closed: 320 (CONNECTION-FORCED)')
    for (const ch of this.channels) ch.closeNow(err)
    this.emit('error', err)
    this.emit('close', err)
  }
}

export class FakeChannel extends EventEmitter {
  private readonly unconfirmed = new Map<number, ConfirmCallback>()
  private nextTag = 0
  private closed = false
  constructor(
    readonly connection: FakeConnection,
    readonly confirm: boolean,
  ) {
    super()
  }

  publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    properties: Record<string, unknown> = {},
    callback?: ConfirmCallback,
  ): boolean {
    if (this.closed) throw new Error('Channel closed')
    const broker = this.connection.broker
    if (broker.exchanges && !broker.exchanges.has(exchange)) {
      const err = new Error(
        `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange '${exchange}' in vhost '/'"`,
      )
      setImmediate(() => {
        this.closed = true
        this.emit('error', err)
        this.emit('close')
      })
      if (callback) this.unconfirmed.set(this.nextTag++, callback)
      return true
    }
    const message: FakePublished = {exchange, routingKey, body, properties, connection: this.connection.index}
    const index = broker.published.length
    broker.published.push(message)
    const tag = this.nextTag++
    if (callback) {
      this.unconfirmed.set(tag, callback)
      broker.maxInFlight = Math.max(broker.maxInFlight, this.unconfirmed.size)
    }
    const outcome = broker.outcome(index, message)
    if (broker.dropAfter === index) {
      broker.dropAfter = undefined
      setImmediate(() => this.connection.drop())
      return true
    }
    setImmediate(() => {
      if (this.closed) return
      if (outcome === 'return') this.emit('return', {fields: {exchange, routingKey}, properties, content: body})
      const cb = this.unconfirmed.get(tag)
      this.unconfirmed.delete(tag)
      cb?.(outcome === 'nack' ? new Error('message nacked') : null)
    })
    return true
  }

  async checkExchange(): Promise<void> {}

  // ---- the consuming side (the tail session) ----
  readonly queues: {name: string; options: Record<string, unknown>}[] = []
  readonly bindings: {queue: string; exchange: string; routingKey: string}[] = []
  /** Highest delivery tag acked (acks are "multiple" in evt), and how many were put back by nackAll. */
  ackedUpTo = 0
  requeued = 0
  private consumer?: (msg: FakeDelivery | null) => void
  private delivered = 0
  prefetchCount = 0

  async prefetch(n: number, _global = false): Promise<void> {
    this.prefetchCount = n
  }
  async assertQueue(name: string, options: Record<string, unknown> = {}): Promise<{queue: string}> {
    const queue = name === '' ? `amq.gen-${this.queues.length}` : name
    this.queues.push({name: queue, options})
    return {queue}
  }
  async checkQueue(name: string): Promise<{queue: string}> {
    return {queue: name}
  }
  async bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    this.bindings.push({queue, exchange, routingKey})
  }
  async consume(_queue: string, onMessage: (msg: FakeDelivery | null) => void): Promise<{consumerTag: string}> {
    this.consumer = onMessage
    return {consumerTag: 'ctag'}
  }
  async cancel(): Promise<void> {
    this.consumer = undefined
  }
  /** The broker delivers a message to the consumer (synchronously, as amqplib does from its frame parser). */
  deliver(
    content: Buffer | string,
    fields: Partial<FakeDelivery['fields']> = {},
    properties: Record<string, unknown> = {},
  ) {
    const deliveryTag = ++this.delivered
    this.consumer?.({
      fields: {exchange: 'ex', routingKey: 'k', redelivered: false, deliveryTag, ...fields},
      properties: {headers: {}, ...properties},
      content: Buffer.isBuffer(content) ? content : Buffer.from(content),
    })
    return deliveryTag
  }
  ack(msg: FakeDelivery, multiple = false): void {
    if (this.closed) throw new Error('Channel closed')
    this.ackedUpTo = multiple ? Math.max(this.ackedUpTo, msg.fields.deliveryTag) : this.ackedUpTo
  }
  nackAll(requeue = true): void {
    if (this.closed) throw new Error('Channel closed')
    if (requeue) this.requeued += this.delivered - this.ackedUpTo
  }
  async close(): Promise<void> {
    this.closeNow()
  }

  closeNow(err?: Error): void {
    if (this.closed) return
    this.closed = true
    const pending = [...this.unconfirmed.values()]
    this.unconfirmed.clear()
    for (const cb of pending) cb(err ?? new Error('channel closed'))
    this.emit('close', err)
  }
}
