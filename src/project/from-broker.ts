import {tapMessages} from '../contracts/tap.js'
import {type Definitions, emptyDefinitions} from '../topology/definitions.js'
import type {EventFixture} from './asyncapi/import.js'
import {slug} from './asyncapi/import.js'
import {inferSchema} from './infer.js'

export interface FromBrokerOptions {
  amqpUrl: string
  managementUrl: string
  /** Only this vhost (default: every vhost of the broker). */
  vhost?: string
  /** How long to tap the exchanges. */
  seconds: number
  /** Stop earlier after this many messages. */
  maxMessages?: number
  signal?: AbortSignal
  log?: (line: string) => void
}

export interface BrokerInference {
  events: EventFixture[]
  /** The broker's definitions without users, passwords and permissions. */
  topology: Definitions
  envelope: 'standard' | 'none' | 'cloudevents'
  messages: number
  notes: string[]
}

interface Seen {
  vhost: string
  exchange: string
  routingKey: string
  properties: {type?: string; appId?: string}
  bodyEncoding: 'json' | 'base64'
  body: unknown
}

type Envelope = BrokerInference['envelope']

/**
 * What `evt init --from-broker` learns from a live broker: its definitions (exported through the management
 * API, minus users and permissions), and from the messages seen on its exchanges during `seconds` (tapped
 * without taking them, like `evt tail`), one event type per (vhost, exchange, type or routing key) with a
 * JSON Schema and recipe inferred from the payloads, every inferred node marked `x-inferred`.
 */
export async function inferFromBroker(options: FromBrokerOptions): Promise<BrokerInference> {
  const {exportDefinitions} = await import('../topology/provision.js')
  const live = await exportDefinitions({managementUrl: options.managementUrl, vhost: options.vhost})
  const temporary = (name: string) => name.startsWith('amq.gen-')
  const topology: Definitions = {
    ...emptyDefinitions(),
    vhosts: live.vhosts.map(({name, description}) => ({name, ...(description ? {description} : {})})),
    policies: live.policies,
    exchanges: live.exchanges.filter((e) => e.name !== '' && !e.name.startsWith('amq.')),
    queues: live.queues.filter((q) => !temporary(q.name)),
    bindings: live.bindings.filter((b) => !temporary(b.destination) && b.source !== ''),
  }
  const notes: string[] = []
  const targets = topology.exchanges
    .filter((e) => !e.internal)
    .map((e) => ({name: `${e.vhost}/${e.name}`, kind: 'exchange' as const}))
  const seen: Seen[] = []
  if (targets.length === 0) notes.push('no exchange to tap: the catalogue is empty')
  else
    await tapMessages<Seen>(
      {
        amqpUrl: options.amqpUrl,
        managementUrl: options.managementUrl,
        targets,
        timeoutSeconds: options.seconds,
        count: options.maxMessages,
        log: options.log,
        signal: options.signal,
      },
      (msg) => seen.push(msg),
    )

  const groups = new Map<string, {vhost: string; exchange: string; name: string; items: Seen[]}>()
  let skipped = 0
  for (const msg of seen) {
    if (msg.bodyEncoding !== 'json') {
      skipped++
      continue
    }
    const env = envelopeOf(msg.body)
    const body = msg.body as Record<string, unknown>
    const name = msg.properties.type ?? (env !== 'none' && typeof body.type === 'string' ? body.type : msg.routingKey)
    const key = `${msg.vhost}\0${msg.exchange}\0${name}`
    const group = groups.get(key) ?? {vhost: msg.vhost, exchange: msg.exchange, name, items: []}
    group.items.push(msg)
    groups.set(key, group)
  }
  if (skipped > 0) notes.push(`${skipped} messages with a body that is not JSON were left out`)

  const envelopes = seen.filter((m) => m.bodyEncoding === 'json').map((m) => envelopeOf(m.body))
  const envelope = mostCommon(envelopes) ?? 'none'
  if (new Set(envelopes).size > 1)
    notes.push(`bodies mix envelopes (${[...new Set(envelopes)].join(', ')}): the project uses ${envelope}`)

  const events: EventFixture[] = []
  for (const g of groups.values()) {
    const keys = g.items.map((m) => m.routingKey)
    const routingKey = mostCommon(keys) ?? g.name
    if (new Set(keys).size > 1)
      notes.push(`${g.name}: seen with ${new Set(keys).size} routing keys, the catalogue uses ${routingKey}`)
    const first = g.items[0]?.body as Record<string, unknown> | undefined
    const data = g.items.map((m) => payloadOf(m.body, envelope))
    const system = g.vhost === '/' ? 'default' : slug(g.vhost) || 'default'
    events.push({
      name: g.name,
      system,
      vhost: g.vhost,
      exchange: g.exchange,
      routingKey,
      description: `Inferred from ${g.items.length} message${g.items.length === 1 ? '' : 's'} seen on ${g.exchange}: review the schema (nodes marked x-inferred).`,
      source: g.items[0]?.properties.appId ?? (typeof first?.source === 'string' ? first.source : system),
      version: '1.0',
      schema: inferSchema(data),
    })
  }
  events.sort((a, b) => `${a.system}/${a.name}`.localeCompare(`${b.system}/${b.name}`))
  return {events, topology, envelope, messages: seen.length, notes}
}

function envelopeOf(body: unknown): Envelope {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'none'
  const b = body as Record<string, unknown>
  if (!('data' in b) || typeof b.type !== 'string') return 'none'
  if (typeof b.specversion === 'string') return 'cloudevents'
  return typeof b.id === 'string' ? 'standard' : 'none'
}

function payloadOf(body: unknown, envelope: Envelope): unknown {
  if (envelope === 'none') return body
  return envelopeOf(body) === 'none' ? body : (body as {data: unknown}).data
}

function mostCommon<T>(values: T[]): T | undefined {
  const counts = new Map<T, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best: T | undefined
  let n = 0
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c]
  return best
}
