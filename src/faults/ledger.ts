/**
 * A Jepsen-style ledger of a queue under faults (the "total queue" checker): every publish has an id and
 * an outcome (confirmed, nacked, unknown), every delivery is recorded, and once the faults are healed and
 * the queue drained the two are compared.
 *   - lost: confirmed, never delivered. Must be 0.
 *   - unexpected: delivered, never published. Must be 0.
 *   - duplicates: deliveries beyond the first of an id (redeliveries after a leader change): reported.
 *   - recovered: outcome nacked or unknown, delivered anyway: reported.
 * Pure bookkeeping (no broker), so it is unit-tested on its own.
 */

export type PublishOutcome = 'pending' | 'confirmed' | 'nacked' | 'unknown'

export interface LedgerVerdict {
  published: number
  confirmed: number
  nacked: number
  /** Outcome never learned (the connection died first), including those still pending. */
  unknown: number
  /** Distinct ids delivered. */
  delivered: number
  deliveries: number
  lost: number
  lostSample: string[]
  unexpected: number
  unexpectedSample: string[]
  duplicates: number
  recovered: number
}

export class Ledger {
  private readonly outcomes = new Map<string, PublishOutcome>()
  private readonly deliveries = new Map<string, number>()
  private deliveryCount = 0

  /** A publish is about to be sent (before the bytes leave: a crash mid-send leaves it unknown). */
  publish(id: string): void {
    if (this.outcomes.has(id)) throw new Error(`ledger: id ${id} published twice`)
    this.outcomes.set(id, 'pending')
  }

  /** The broker answered (ack or nack), or the channel died first (unknown). A later answer never downgrades. */
  settle(id: string, outcome: Exclude<PublishOutcome, 'pending'>): void {
    const now = this.outcomes.get(id)
    if (now === undefined || now === 'confirmed' || now === 'nacked') return
    this.outcomes.set(id, outcome)
  }

  deliver(id: string): void {
    this.deliveryCount++
    this.deliveries.set(id, (this.deliveries.get(id) ?? 0) + 1)
  }

  /** Ids whose outcome is still pending: the channel they went on died, so they become unknown. */
  abandonPending(): number {
    let n = 0
    for (const [id, o] of this.outcomes) {
      if (o === 'pending') {
        this.outcomes.set(id, 'unknown')
        n++
      }
    }
    return n
  }

  get confirmedCount(): number {
    let n = 0
    for (const o of this.outcomes.values()) if (o === 'confirmed') n++
    return n
  }

  /** Ids that may still arrive (confirmed or unknown, not yet delivered): drain until this is 0 or time is up. */
  outstanding(): number {
    let n = 0
    for (const [id, o] of this.outcomes) if (o !== 'nacked' && !this.deliveries.has(id)) n++
    return n
  }

  /** Confirmed ids not yet delivered. */
  confirmedOutstanding(): number {
    let n = 0
    for (const [id, o] of this.outcomes) if (o === 'confirmed' && !this.deliveries.has(id)) n++
    return n
  }

  verdict(sample = 5): LedgerVerdict {
    const count = {confirmed: 0, nacked: 0, unknown: 0}
    const lost: string[] = []
    let recovered = 0
    for (const [id, o] of this.outcomes) {
      if (o === 'confirmed') count.confirmed++
      else if (o === 'nacked') count.nacked++
      else count.unknown++
      const got = this.deliveries.has(id)
      if (o === 'confirmed' && !got) lost.push(id)
      if (o !== 'confirmed' && got) recovered++
    }
    const unexpected = [...this.deliveries.keys()].filter((id) => !this.outcomes.has(id))
    let duplicates = 0
    for (const n of this.deliveries.values()) duplicates += n - 1
    return {
      published: this.outcomes.size,
      ...count,
      delivered: this.deliveries.size,
      deliveries: this.deliveryCount,
      lost: lost.length,
      lostSample: lost.slice(0, sample),
      unexpected: unexpected.length,
      unexpectedSample: unexpected.slice(0, sample),
      duplicates,
      recovered,
    }
  }
}

/**
 * Publish stalls from the times confirms arrived: the longest gap between two confirms while publishing
 * went on, and (given a fault time) how long after it the first message published after the fault was
 * confirmed.
 */
export class StallClock {
  private last?: number
  longest = 0
  private firstAfter = new Map<number, number>()

  constructor(private readonly now: () => number = () => performance.now()) {}

  start(): void {
    this.last = this.now()
  }

  /** A confirm arrived for a message published at publishedAt. */
  confirmed(publishedAt: number): void {
    const t = this.now()
    if (this.last !== undefined) this.longest = Math.max(this.longest, t - this.last)
    this.last = t
    for (const [fault, first] of this.firstAfter) {
      if (first < 0 && publishedAt >= fault) this.firstAfter.set(fault, t)
    }
  }

  /** Mark a fault now; resumeAfter(mark) answers later. */
  mark(): number {
    const t = this.now()
    this.firstAfter.set(t, -1)
    return t
  }

  /** Milliseconds from the mark to the first confirm of a message published after it (undefined: none yet). */
  resumeAfter(mark: number): number | undefined {
    const first = this.firstAfter.get(mark)
    return first === undefined || first < 0 ? undefined : first - mark
  }

  /** The gap since the last confirm counts too when publishing stops in a stall. */
  stop(): void {
    if (this.last !== undefined) this.longest = Math.max(this.longest, this.now() - this.last)
  }
}
