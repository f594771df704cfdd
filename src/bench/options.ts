import {UsageError} from '../errors.js'

export const QUEUE_TYPES = ['classic', 'quorum'] as const
export type BenchQueueType = (typeof QUEUE_TYPES)[number]
export const EXCHANGE_TYPES = ['direct', 'topic', 'fanout', 'headers'] as const
export type BenchExchangeType = (typeof EXCHANGE_TYPES)[number]

/** What one `evt bench` run does. Counts are totals across producers; rates are per producer. */
export interface BenchOptions {
  producers: number
  consumers: number
  /** Messages per second per producer; 0 = as fast as the broker takes them. */
  rate: number
  /** Body size in bytes for random payloads (at least 8: the send timestamp lives in the first 8). */
  size: number
  /** Total messages across all producers; set this or durationSeconds. */
  count?: number
  durationSeconds?: number
  /** Publisher-confirm window (messages in flight per producer); 0 = confirms off. */
  confirm: number
  persistent: boolean
  /** Consumer prefetch (basic.qos); 0 = unlimited. */
  prefetch: number
  /** Ack with multiple=true every N deliveries; 1 = ack each. */
  multiAck: number
  queueType: BenchQueueType
  exchangeType: BenchExchangeType
  /** A catalogue event type to send instead of random bytes. */
  event?: string
}

export interface BenchExpectations {
  publishRate?: number
  consumeRate?: number
  p99Ms?: number
}

export const BENCH_DEFAULTS = {
  producers: 1,
  consumers: 1,
  rate: 0,
  size: 1000,
  durationSeconds: 10,
  confirm: 0,
  persistent: false,
  prefetch: 1000,
  multiAck: 100,
  queueType: 'classic',
  exchangeType: 'direct',
} as const satisfies Partial<BenchOptions>

export const MIN_BODY_BYTES = 8

export type BenchInput = Partial<BenchOptions>

/** Fill defaults and reject combinations that cannot run (exit 2), before anything touches the broker. */
export function validateBenchOptions(input: BenchInput): BenchOptions {
  const o = {...BENCH_DEFAULTS, ...stripUndefined(input)} as BenchOptions
  if (input.count !== undefined && input.durationSeconds !== undefined) {
    throw new UsageError('--count and --duration cannot be used together', 'Give one: a message count or a duration')
  }
  if (input.count === undefined && input.durationSeconds === undefined)
    o.durationSeconds = BENCH_DEFAULTS.durationSeconds
  if (input.count !== undefined) o.durationSeconds = undefined
  intAtLeast('--producers', o.producers, 1)
  intAtLeast('--consumers', o.consumers, 0)
  if (!Number.isFinite(o.rate) || o.rate < 0) throw new UsageError(`--rate must be 0 or more (got ${o.rate})`)
  intAtLeast('--size', o.size, MIN_BODY_BYTES, 'the first 8 bytes carry the send timestamp')
  if (o.count !== undefined) intAtLeast('--count', o.count, 1)
  if (o.count !== undefined && o.count < o.producers) {
    throw new UsageError(`--count ${o.count} is less than --producers ${o.producers}`, 'Give each producer a message')
  }
  if (o.durationSeconds !== undefined && !(o.durationSeconds > 0)) {
    throw new UsageError(`--duration must be more than 0 seconds (got ${o.durationSeconds})`)
  }
  intAtLeast('--confirm', o.confirm, 0)
  intAtLeast('--prefetch', o.prefetch, 0)
  intAtLeast('--multi-ack', o.multiAck, 1)
  if (o.prefetch > 0 && o.multiAck > o.prefetch) {
    throw new UsageError(
      `--multi-ack ${o.multiAck} is larger than --prefetch ${o.prefetch}: the consumer would wait forever for deliveries the broker will not send`,
      'Use --multi-ack no larger than --prefetch (for example --prefetch 1000 --multi-ack 100)',
    )
  }
  if (!QUEUE_TYPES.includes(o.queueType)) throw new UsageError(`unknown --queue-type ${o.queueType}`)
  if (!EXCHANGE_TYPES.includes(o.exchangeType)) throw new UsageError(`unknown --exchange-type ${o.exchangeType}`)
  return o
}

function intAtLeast(flag: string, value: number, min: number, why?: string): void {
  if (!Number.isInteger(value) || value < min) {
    throw new UsageError(`${flag} must be a whole number of at least ${min}${why ? ` (${why})` : ''}; got ${value}`)
  }
}

function stripUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** Thresholds must be positive numbers; returns only the ones given. */
export function validateExpectations(input: BenchExpectations, options?: BenchOptions): BenchExpectations {
  for (const [flag, value] of [
    ['--expect-publish-rate', input.publishRate],
    ['--expect-consume-rate', input.consumeRate],
    ['--expect-p99', input.p99Ms],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new UsageError(`${flag} must be a number above 0 (got ${value})`)
    }
  }
  if (options && options.consumers === 0 && (input.consumeRate !== undefined || input.p99Ms !== undefined)) {
    throw new UsageError(
      '--expect-consume-rate and --expect-p99 need consumers',
      'Use --consumers 1 or more (latency is measured publish → consume)',
    )
  }
  return stripUndefined(input)
}
