import type {Channel, ChannelModel, ConfirmChannel} from 'amqplib'
import {connectAmqp} from '../amqp/connect.js'
import {settledWithin, sleep, waitFor} from '../util/time.js'
import {Ledger, type LedgerVerdict, StallClock} from './ledger.js'

export interface LedgerLoadOptions {
  /** One AMQP URL per node (vhost included); clients move to the next node when theirs goes away. */
  urls: string[]
  queue: string
  /** Publishes per second (default 200). */
  rate?: number
  /** Unconfirmed publishes in flight at most (default 50). */
  window?: number
  /** Consumer prefetch (default 100). */
  prefetch?: number
  /** Which node the publisher and the consumer start on (1-based; default 2 and 3, away from node 1). */
  publisherNode?: number
  consumerNode?: number
  /** false: a publisher without reconnect logic, which stops for good when its connection is lost. */
  publisherReconnect?: boolean
}

export interface LedgerLoadResult extends LedgerVerdict {
  /** Longest gap between two publish confirms while publishing, in seconds. */
  longestStallSeconds: number
  /** Per fault mark (in order): seconds from the fault to the first confirm of a message published after it. */
  resumeSeconds: (number | null)[]
  publisherReconnects: number
  consumerReconnects: number
  /** Whether everything that could arrive did before the drain deadline. */
  drained: boolean
  publishSeconds: number
}

/**
 * Confirmed publishing and acknowledged consuming of one queue, both surviving the loss of their node by
 * moving to the next one, with every publish and delivery in a Ledger. start(), faults happen, stop()
 * drains and returns the verdict.
 */
export class LedgerLoad {
  readonly ledger = new Ledger()
  readonly clock = new StallClock()
  private running = false
  private publisher?: Promise<void>
  private consumerConn?: ChannelModel
  private consumerAlive = false
  private consumerLoop?: Promise<void>
  private stopConsumer = false
  private seq = 0
  private marks: number[] = []
  private pubReconnects = 0
  private conReconnects = 0
  private publishStarted = 0
  private publishStopped = 0
  private readonly opts: Required<Omit<LedgerLoadOptions, 'publisherNode' | 'consumerNode'>> & {
    publisherNode: number
    consumerNode: number
  }

  constructor(options: LedgerLoadOptions) {
    const n = options.urls.length
    this.opts = {
      rate: 200,
      window: 50,
      prefetch: 100,
      ...options,
      publisherReconnect: options.publisherReconnect ?? true,
      publisherNode: options.publisherNode ?? Math.min(2, n),
      consumerNode: options.consumerNode ?? Math.min(3, n),
    }
  }

  /** Connect to the first node that answers, starting at `from` (1-based) and going round. */
  private async connect(from: number, label: string): Promise<{conn: ChannelModel; node: number}> {
    const urls = this.opts.urls
    for (let round = 0; round < 100; round++) {
      for (let k = 0; k < urls.length; k++) {
        const node = ((from - 1 + k) % urls.length) + 1
        try {
          const conn = await connectAmqp(urls[node - 1], {connectionName: `evt ledger ${label}`, timeoutMs: 2000})
          conn.on('error', () => {})
          return {conn, node}
        } catch {
          // next node
        }
      }
      if (!this.running && label === 'publisher') break
      await sleep(200)
    }
    throw new Error(`ledger ${label}: no node answers`)
  }

  async start(): Promise<void> {
    this.running = true
    await this.reconnectConsumer(this.opts.consumerNode)
    this.publishStarted = performance.now()
    this.clock.start()
    this.publisher = this.publishLoop()
  }

  /** Mark a fault (resume time is measured from here). */
  mark(): void {
    this.marks.push(this.clock.mark())
  }

  private async publishLoop(): Promise<void> {
    let node = this.opts.publisherNode
    const interval = 1000 / this.opts.rate
    while (this.running) {
      let conn: ChannelModel
      try {
        const c = await this.connect(node, 'publisher')
        conn = c.conn
        node = c.node
      } catch {
        if (!this.running) return
        continue
      }
      let ch: ConfirmChannel
      try {
        ch = await conn.createConfirmChannel()
      } catch {
        await conn.close().catch(() => {})
        continue
      }
      ch.on('error', () => {})
      let closed = false
      const mine = new Set<string>()
      let wake: (() => void) | undefined
      const onClose = () => {
        closed = true
        // Publishes without an answer when the channel died: their fate is unknown.
        for (const id of mine) this.ledger.settle(id, 'unknown')
        mine.clear()
        wake?.()
      }
      ch.on('close', onClose)
      conn.on('close', onClose)
      let next = performance.now()
      while (this.running && !closed) {
        while (mine.size >= this.opts.window && !closed && this.running) {
          await Promise.race([new Promise<void>((r) => (wake = r)), sleep(100)])
        }
        if (closed || !this.running) break
        const id = `m${++this.seq}`
        const at = performance.now()
        this.ledger.publish(id)
        mine.add(id)
        try {
          ch.publish(
            '',
            this.opts.queue,
            Buffer.from(JSON.stringify({id, at: Date.now()})),
            {
              messageId: id,
              persistent: true,
            },
            (err) => {
              if (!mine.delete(id)) return
              if (err) {
                // amqplib fails the callbacks of a closed channel with "channel closed": not a nack.
                this.ledger.settle(id, /closed/i.test(String(err.message ?? err)) ? 'unknown' : 'nacked')
              } else {
                this.ledger.settle(id, 'confirmed')
                this.clock.confirmed(at)
              }
              wake?.()
            },
          )
        } catch {
          mine.delete(id)
          this.ledger.settle(id, 'unknown')
          break
        }
        next += interval
        const wait = next - performance.now()
        if (wait > 0) await sleep(wait)
        else if (wait < -1000) next = performance.now() // fell behind (a stall): do not burst to catch up
      }
      if (this.running && !this.opts.publisherReconnect) {
        await conn.close().catch(() => {})
        return
      }
      if (this.running) {
        this.pubReconnects++
        node = (node % this.opts.urls.length) + 1
        await conn.close().catch(() => {})
      } else {
        // Stopping: wait (briefly) for the confirms still in flight, then leave.
        await waitFor(async () => mine.size === 0 || closed, {timeoutMs: 10_000, intervalMs: 20})
        for (const id of mine) this.ledger.settle(id, 'unknown')
        await conn.close().catch(() => {})
      }
    }
  }

  private async startConsumer(from: number): Promise<void> {
    const {conn, node} = await this.connect(from, 'consumer')
    let ch: Channel
    let attached = false
    const lost = () => {
      if (!attached || this.consumerConn !== conn) return
      this.consumerAlive = false
      this.consumerConn = undefined
      conn.close().catch(() => {})
      if (this.stopConsumer) return
      this.conReconnects++
      this.consumerLoop = this.reconnectConsumer((node % this.opts.urls.length) + 1)
    }
    try {
      ch = await conn.createChannel()
      ch.on('error', () => {})
      await ch.prefetch(this.opts.prefetch)
      ch.on('close', lost)
      conn.on('close', lost)
      await ch.consume(
        this.opts.queue,
        (msg) => {
          if (!msg) {
            // The queue was deleted or its consumer cancelled (a leader moved): consume again.
            lost()
            return
          }
          this.ledger.deliver(String(msg.properties.messageId))
          try {
            ch.ack(msg)
          } catch {
            // channel gone: the message comes again (a duplicate)
          }
        },
        {noAck: false},
      )
    } catch (err) {
      // The queue is not available on this node now (its home node is down): try again from elsewhere.
      await conn.close().catch(() => {})
      throw err
    }
    this.consumerConn = conn
    this.consumerAlive = true
    attached = true
  }

  private async reconnectConsumer(from: number): Promise<void> {
    while (!this.stopConsumer) {
      try {
        await this.startConsumer(from)
        return
      } catch {
        await sleep(200)
        from = (from % this.opts.urls.length) + 1
      }
    }
  }

  /**
   * Stop publishing, then drain: wait until every confirmed or unknown id has been delivered, or until
   * nothing new arrives for quietMs (unknown ids may never have reached the queue), at most drainMs.
   */
  async stop(options: {drainMs?: number; quietMs?: number} = {}): Promise<LedgerLoadResult> {
    this.running = false
    await this.publisher
    this.publishStopped = performance.now()
    this.clock.stop()
    this.ledger.abandonPending()
    const drainMs = options.drainMs ?? 60_000
    const quietMs = options.quietMs ?? 3000
    let lastCount = -1
    let lastChange = performance.now()
    const drained = await waitFor(
      async () => {
        const v = this.ledger.verdict(0)
        if (v.deliveries !== lastCount) {
          lastCount = v.deliveries
          lastChange = performance.now()
        }
        const settled =
          this.ledger.outstanding() === 0 ||
          // Only unknown ids left, and nothing arrives: they never made it into the queue.
          (this.ledger.confirmedOutstanding() === 0 && performance.now() - lastChange > quietMs)
        // A total-queue check drains the whole queue: what nobody published (unexpected) must reach the ledger too.
        return settled && (await this.queueEmpty())
      },
      {timeoutMs: drainMs, intervalMs: 100},
    )
    this.stopConsumer = true
    await this.consumerLoop?.catch(() => {})
    await this.consumerConn?.close().catch(() => {})
    return {
      ...this.ledger.verdict(),
      longestStallSeconds: round(this.clock.longest / 1000),
      resumeSeconds: this.marks.map((m) => {
        const r = this.clock.resumeAfter(m)
        return r === undefined ? null : round(r / 1000)
      }),
      publisherReconnects: this.pubReconnects,
      consumerReconnects: this.conReconnects,
      drained,
      publishSeconds: round((this.publishStopped - this.publishStarted) / 1000),
    }
  }

  /** The consumer is attached and the queue holds no ready message (false when the queue cannot be asked). */
  private async queueEmpty(): Promise<boolean> {
    const conn = this.consumerConn
    if (!this.consumerAlive || !conn) return false
    let empty = false
    const look = async () => {
      const ch = await conn.createChannel()
      ch.on('error', () => {})
      try {
        empty = (await ch.checkQueue(this.opts.queue)).messageCount === 0
      } finally {
        // Also after the drain stopped waiting for it: a stalled look must not leave its channel open.
        await ch.close().catch(() => {})
      }
    }
    // A node that stalls (partitioned) must not hold the drain past its deadline: no answer is "not yet".
    return (await settledWithin(look(), 2000)) && empty
  }

  /** Whether the consumer is attached now. */
  get consuming(): boolean {
    return this.consumerAlive
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100
}
