import {randomBytes, randomUUID} from 'node:crypto'
import type {Faker} from '@faker-js/faker'
import {UsageError} from '../errors.js'
import {loadEnglishFaker} from './faker-locale.js'
import {alnumFrom, fastRandomizer, hashSeed, mulberry32, uuidFrom} from './prng.js'
import {applyDerivations, generateRaw, getPath, parsePath, type RecipeContext, setPath} from './recipe.js'
import type {EnvelopeKind, EventType} from './types.js'
import {type DataValidator, dataValidator, schemaViolation} from './validate.js'

/** Timestamps of a seeded run start here (seed 001's example) and advance one second per message. */
export const SEEDED_EPOCH = Date.parse('2024-01-15T10:30:00.000Z')
export const DEFAULT_TENANT = 'tenant_evt'

export interface Overrides {
  /** Merged into the generated data (objects deeply, everything else replaced). */
  data?: Record<string, unknown>
  /** `path=value` edits applied after `data`: paths like `items[0].price` or `customer.email`. */
  set?: {path: string; value: unknown}[]
}

export interface GenerateOptions {
  seed?: number
  /** The message's position in the run: with a seed, id, timestamp and data follow from (seed, type, index). */
  index?: number
  overrides?: Overrides
  envelope?: EnvelopeKind
  tenant?: string
  correlationId?: string
  /** Delivery mode 2 (default true). */
  persistent?: boolean
  /** Ask the broker to return unroutable messages (default true). */
  mandatory?: boolean
}

export interface AmqpPublishProperties {
  contentType: string
  messageId: string
  type: string
  timestamp: number
  correlationId: string
  appId: string
  persistent: boolean
  mandatory: boolean
}

export interface GeneratedEvent {
  routingKey: string
  body: Buffer
  properties: AmqpPublishProperties
  /** The body as an object (the envelope, or the bare data with `--envelope none`). */
  envelope: Record<string, unknown>
}

export interface FactoryOptions extends Omit<GenerateOptions, 'index'> {
  /**
   * At most this many distinct data payloads are generated per type, then reused cyclically (ids,
   * timestamps and correlation ids stay unique per message). Faker costs ~40-100 µs a payload; 0 means
   * generate every message. Default 1000.
   */
  dataPool?: number
}

interface PoolItem {
  data: Record<string, unknown>
  /** The data's JSON as bytes, copied into each body (cheaper than encoding the string again). */
  bytes: Buffer
}

/** Slabs start at 4 KiB (a factory may build one message) and double up to 256 KiB: a few hundred bodies each. */
const FIRST_SLAB_BYTES = 4 * 1024
const MAX_SLAB_BYTES = 256 * 1024

/**
 * Message bodies cut from large buffers. Buffer.from(string) takes each body from Node's 8 KiB pool: a new
 * pool every dozen messages, and the garbage collector then spends more time on them than the publish does.
 * A body keeps its slab alive, so a confirm window of 1000 holds a handful of slabs.
 */
export class BodySlab {
  private slab = Buffer.allocUnsafeSlow(0)
  private offset = 0

  /** head + middle + tail as one buffer (a view into the current slab). */
  cut(head: string, middle: Buffer, tail: string): Buffer {
    const most = (head.length + tail.length) * 3 + middle.length
    if (this.offset + most > this.slab.length) {
      const next = this.slab.length === 0 ? FIRST_SLAB_BYTES : Math.min(this.slab.length * 2, MAX_SLAB_BYTES)
      this.slab = Buffer.allocUnsafeSlow(Math.max(next, most))
      this.offset = 0
    }
    const start = this.offset
    let at = start + this.slab.write(head, start)
    at += middle.copy(this.slab, at)
    at += this.slab.write(tail, at)
    this.offset = at
    return this.slab.subarray(start, at)
  }
}

let fakerPromise: Promise<Faker> | undefined
function loadFaker(): Promise<Faker> {
  // A randomizer that is cheap to seed: every payload seeds faker afresh.
  fakerPromise ??= loadEnglishFaker(fastRandomizer())
  return fakerPromise
}

/** Builds the messages of one event type for a run: cheap per message, reproducible with a seed. */
export class EventFactory {
  readonly type: EventType
  private readonly faker: Faker
  private readonly validate: DataValidator | undefined
  private readonly options: FactoryOptions
  private readonly pool: (PoolItem | undefined)[] = []
  private readonly poolSize: number
  private readonly runSeed: number
  private readonly startMs: number
  private readonly templated: boolean
  private readonly prefix: string
  private readonly suffix: string
  /** Unseeded correlation ids: a random per-run prefix plus the index (unique, and cheap). */
  private readonly runTag: string
  private readonly versionJson: string
  private readonly bodies = new BodySlab()
  /** A given correlation id, as JSON (generated ones need no escaping). */
  private readonly correlationJson: string | undefined

  private constructor(type: EventType, faker: Faker, validate: DataValidator | undefined, options: FactoryOptions) {
    this.type = type
    this.faker = faker
    this.validate = validate
    this.options = options
    this.poolSize = options.dataPool ?? 1000
    this.runSeed = options.seed ?? randomBytes(4).readUInt32LE(0)
    this.startMs = options.seed === undefined ? Date.now() : SEEDED_EPOCH
    this.templated = type.routingKey.includes('{')
    this.runTag = randomBytes(3).toString('hex')
    this.versionJson = JSON.stringify(type.version)
    this.correlationJson = options.correlationId === undefined ? undefined : JSON.stringify(options.correlationId)
    const tenant = JSON.stringify(options.tenant ?? DEFAULT_TENANT)
    this.prefix = `","type":${JSON.stringify(type.name)},"source":${JSON.stringify(type.source)},"timestamp":"`
    this.suffix = `,"tenant_id":${tenant}`
  }

  /** Overrides are validated here (exit 2 listing each error) so that nothing is published on a bad one. */
  static async create(type: EventType, options: FactoryOptions = {}): Promise<EventFactory> {
    const needsValidation = Boolean(options.overrides?.data || options.overrides?.set?.length)
    const [faker, validate] = await Promise.all([loadFaker(), needsValidation ? dataValidator(type) : undefined])
    const factory = new EventFactory(type, faker, validate, options)
    factory.dataAt(0)
    return factory
  }

  private lastMs = Number.NaN
  private lastIso = ''

  /** toISOString once per millisecond: many messages share one. */
  private isoTimestamp(ms: number): string {
    if (ms !== this.lastMs) {
      this.lastMs = ms
      this.lastIso = new Date(ms).toISOString()
    }
    return this.lastIso
  }

  /** Generate (and with overrides, validate) the first `n` distinct payloads now. */
  prepare(n: number): void {
    const limit = this.poolSize > 0 ? Math.min(n, this.poolSize) : n
    for (let i = 0; i < limit; i++) this.dataAt(i)
  }

  private timestampMs(index: number): number {
    return this.options.seed === undefined ? Date.now() : this.startMs + index * 1000
  }

  private dataAt(index: number): PoolItem {
    const slot = this.poolSize > 0 ? index % this.poolSize : -1
    if (slot >= 0) {
      const cached = this.pool[slot]
      if (cached) return cached
    }
    const item = this.generateData(slot >= 0 ? slot : index)
    if (slot >= 0) this.pool[slot] = item
    return item
  }

  private generateData(index: number): PoolItem {
    const faker = this.faker
    faker.seed(hashSeed(this.runSeed, this.type.qualifiedName, index))
    const ctx: RecipeContext = {faker, refDate: new Date(this.startMs + index * 1000)}
    const examples = this.type.examples
    // Fixed data (examples) is published in turn; otherwise the recipe generates it.
    const {data, derivations} = examples?.length
      ? {data: structuredClone(examples[index % examples.length]) as Record<string, unknown>, derivations: []}
      : generateRaw(this.type.schema, ctx)
    const overridden = applyOverrides(data, this.options.overrides)
    applyDerivations(data, derivations, ctx, (path) => overridden.some((o) => isPrefix(o, path)))
    if (this.validate) {
      const errors = this.validate(data)
      if (errors.length > 0) throw schemaViolation(this.type, errors)
    }
    return {data, bytes: Buffer.from(JSON.stringify(data))}
  }

  /** The message at `index`: routing key, body and AMQP properties (no envelope object: the fast path). */
  message(index: number): {routingKey: string; body: Buffer; properties: AmqpPublishProperties} {
    const {data, bytes} = this.dataAt(index)
    const seeded = this.options.seed !== undefined
    const next = seeded ? mulberry32(hashSeed(this.runSeed, this.type.qualifiedName, 'msg', index)) : undefined
    const id = `evt_${next ? uuidFrom(next) : randomUUID()}`
    const correlationId =
      this.options.correlationId ??
      `req_${next ? alnumFrom(next, 12) : this.runTag + index.toString(36).padStart(6, '0')}`
    const userId = `user_${next ? 100 + (next() % 900) : 100 + Math.floor(Math.random() * 900)}`
    const ms = this.timestampMs(index)
    const timestamp = this.isoTimestamp(ms)
    const kind = this.options.envelope ?? 'standard'
    let body: Buffer
    if (kind === 'none') body = bytes
    else if (kind === 'cloudevents')
      body = Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id,
          source: this.type.source,
          type: this.type.name,
          time: timestamp,
          datacontenttype: 'application/json',
          tenantid: this.options.tenant ?? DEFAULT_TENANT,
          correlationid: correlationId,
          data,
        }),
      )
    else {
      // Same bytes as JSON.stringify of the envelope (tested), built around the pooled data JSON.
      const correlationJson = this.correlationJson ?? `"${correlationId}"`
      body = this.bodies.cut(
        `{"id":"${id}${this.prefix}${timestamp}"${this.suffix},"correlation_id":${correlationJson},"data":`,
        bytes,
        `,"metadata":{"version":${this.versionJson},"user_id":"${userId}"}}`,
      )
    }
    return {
      routingKey: this.templated ? fillRoutingKey(this.type.routingKey, data, new Date(ms)) : this.type.routingKey,
      body,
      properties: {
        contentType: kind === 'cloudevents' ? 'application/cloudevents+json' : 'application/json',
        messageId: id,
        type: this.type.name,
        timestamp: Math.floor(ms / 1000),
        correlationId,
        appId: this.type.source,
        persistent: this.options.persistent ?? true,
        mandatory: this.options.mandatory ?? true,
      },
    }
  }

  event(index: number): GeneratedEvent {
    const m = this.message(index)
    return {...m, envelope: JSON.parse(m.body.toString('utf8')) as Record<string, unknown>}
  }
}

/** One message of a type (the library entry point; the publisher uses an EventFactory per type). */
export async function generateEvent(type: EventType, options: GenerateOptions = {}): Promise<GeneratedEvent> {
  const index = options.index ?? 0
  const factory = await EventFactory.create(type, {...options, dataPool: 0})
  return factory.event(index)
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

/**
 * Routing-key templates: `{month}` (English month name of the message timestamp), `{year}`, `{day}`,
 * and `{data.<path>}` (a value of the generated data). Example: `customers.created.{month}`.
 */
export function fillRoutingKey(template: string, data: Record<string, unknown>, at: Date): string {
  return template.replace(/\{([^}]+)\}/g, (_m, token: string) => {
    if (token === 'month') return MONTHS[at.getUTCMonth()] as string
    if (token === 'year') return String(at.getUTCFullYear())
    if (token === 'day') return String(at.getUTCDate()).padStart(2, '0')
    if (token.startsWith('data.')) return String(getPath(data, parsePath(token.slice(5))) ?? '')
    throw new UsageError(`unknown routing key placeholder {${token}} in "${template}"`)
  })
}

function isPrefix(prefix: readonly (string | number)[], path: readonly (string | number)[]): boolean {
  if (prefix.length > path.length) return false
  return prefix.every((p, i) => String(p) === String(path[i]))
}

/** Apply --data then --set; returns the paths touched (so derivations leave them alone). */
export function applyOverrides(data: Record<string, unknown>, overrides?: Overrides): (readonly (string | number)[])[] {
  const touched: (readonly (string | number)[])[] = []
  if (!overrides) return touched
  if (overrides.data) deepMerge(data, overrides.data, [], touched)
  for (const {path, value} of overrides.set ?? []) {
    const segments = parsePath(path)
    if (segments.length === 0) throw new UsageError(`--set needs a path: "${path}"`)
    setPath(data, segments, structuredClone(value))
    touched.push(segments)
  }
  return touched
}

function deepMerge(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  base: (string | number)[],
  touched: (readonly (string | number)[])[],
): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key]
    if (isPlainObject(value) && isPlainObject(current)) deepMerge(current, value, [...base, key], touched)
    else {
      target[key] = structuredClone(value)
      touched.push([...base, key])
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** `path=value`: the value is JSON when it parses (numbers, true, {"a":1}), else a plain string. */
export function parseSetFlag(text: string): {path: string; value: unknown} {
  const eq = text.indexOf('=')
  if (eq <= 0) throw new UsageError(`--set expects path=value, got "${text}"`, 'Example: --set items[0].quantity=3')
  const raw = text.slice(eq + 1)
  let value: unknown = raw
  try {
    value = JSON.parse(raw)
  } catch {
    // a bare string such as --set status=paid
  }
  return {path: text.slice(0, eq).trim(), value}
}
