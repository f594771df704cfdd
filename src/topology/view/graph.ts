import type {Definitions, DefinitionsPolicy, DefinitionsQueue} from '../definitions.js'
import {routeMessage} from '../routing.js'

/**
 * The topology as a graph a person can look at: exchanges with their bindings, queues with their type,
 * counts, dead-letter exchange and TTL (from the queue's arguments or the policy that applies to it).
 * Pure: built from definitions (a file, or GET /api/definitions) plus optional live queue statistics.
 */

export interface QueueStats {
  ready: number
  unacked: number
  consumers: number
}

export interface DeadLetterTarget {
  exchange: string
  /** The key dead-lettered messages are published with; undefined means their original routing key. */
  routingKey?: string
  /** Where the policy or argument came from. */
  from: 'argument' | `policy ${string}`
}

export interface GraphQueue {
  name: string
  type: string
  durable: boolean
  autoDelete: boolean
  exclusive?: boolean
  stats?: QueueStats
  deadLetter?: DeadLetterTarget
  ttlMs?: number
  maxLength?: number
  deliveryLimit?: number
}

export interface GraphBinding {
  key: string
  arguments: Record<string, unknown>
  destination: string
  destinationType: 'queue' | 'exchange'
}

export interface GraphExchange {
  name: string
  type: string
  durable: boolean
  internal: boolean
  alternateExchange?: string
  bindings: GraphBinding[]
}

export interface VhostGraph {
  vhost: string
  exchanges: GraphExchange[]
  queues: GraphQueue[]
}

export interface TopologyGraph {
  vhosts: VhostGraph[]
}

export interface DeadLetterChain {
  exchange: string
  routingKey?: string
  /** Queues reached, each with its own onward chain (a cycle is cut and marked). */
  reaches: {queue: string; cycle?: boolean; next?: DeadLetterChain}[]
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/** The policy RabbitMQ applies to a queue: the highest priority one whose pattern matches and that applies to queues. */
export function effectivePolicy(
  policies: DefinitionsPolicy[],
  vhost: string,
  queue: DefinitionsQueue,
): DefinitionsPolicy | undefined {
  const type = str(queue.arguments?.['x-queue-type']) ?? 'classic'
  const applies = (p: DefinitionsPolicy) =>
    p['apply-to'] === 'queues' ||
    p['apply-to'] === 'all' ||
    (p['apply-to'] === 'classic_queues' && type === 'classic') ||
    (p['apply-to'] === 'quorum_queues' && type === 'quorum') ||
    (p['apply-to'] === 'streams' && type === 'stream')
  let best: DefinitionsPolicy | undefined
  for (const p of policies) {
    if (p.vhost !== vhost || !applies(p)) continue
    let matches = false
    try {
      matches = new RegExp(p.pattern).test(queue.name)
    } catch {
      matches = false
    }
    if (matches && (!best || p.priority > best.priority)) best = p
  }
  return best
}

function graphQueue(defs: Definitions, q: DefinitionsQueue, stats?: QueueStats): GraphQueue {
  const args = q.arguments ?? {}
  const policy = effectivePolicy(defs.policies ?? [], q.vhost, q)
  const pdef = policy?.definition ?? {}
  // A queue argument wins over a policy for the same setting, as in RabbitMQ.
  const dlxArg = str(args['x-dead-letter-exchange'])
  const dlxPolicy = str(pdef['dead-letter-exchange'])
  let deadLetter: DeadLetterTarget | undefined
  if (dlxArg !== undefined) {
    deadLetter = {exchange: dlxArg, routingKey: str(args['x-dead-letter-routing-key']), from: 'argument'}
  } else if (dlxPolicy !== undefined && policy) {
    deadLetter = {exchange: dlxPolicy, routingKey: str(pdef['dead-letter-routing-key']), from: `policy ${policy.name}`}
  }
  return {
    name: q.name,
    type: str(args['x-queue-type']) ?? 'classic',
    durable: q.durable,
    autoDelete: q.auto_delete,
    ...(stats ? {stats} : {}),
    ...(deadLetter ? {deadLetter} : {}),
    ...(num(args['x-message-ttl'] ?? pdef['message-ttl']) === undefined
      ? {}
      : {ttlMs: num(args['x-message-ttl'] ?? pdef['message-ttl'])}),
    ...(num(args['x-max-length'] ?? pdef['max-length']) === undefined
      ? {}
      : {maxLength: num(args['x-max-length'] ?? pdef['max-length'])}),
    ...(num(args['x-delivery-limit'] ?? pdef['delivery-limit']) === undefined
      ? {}
      : {deliveryLimit: num(args['x-delivery-limit'] ?? pdef['delivery-limit'])}),
  }
}

/** Build the graph of every vhost in the definitions (or only `vhosts`), with statistics keyed "vhost/queue". */
export function buildGraph(
  defs: Definitions,
  options: {vhosts?: string[]; stats?: Map<string, QueueStats>; includeSystem?: boolean} = {},
): TopologyGraph {
  const names = new Set<string>([
    ...defs.vhosts.map((v) => v.name),
    ...defs.exchanges.map((e) => e.vhost),
    ...defs.queues.map((q) => q.vhost),
  ])
  const wanted = [...names].filter((v) => !options.vhosts || options.vhosts.includes(v)).sort()
  return {
    vhosts: wanted.map((vhost) => ({
      vhost,
      exchanges: defs.exchanges
        .filter((e) => e.vhost === vhost && (options.includeSystem || !e.name.startsWith('amq.')))
        .map((e) => ({
          name: e.name,
          type: e.type,
          durable: e.durable,
          internal: e.internal,
          ...(str(e.arguments?.['alternate-exchange'])
            ? {alternateExchange: str(e.arguments['alternate-exchange'])}
            : {}),
          bindings: defs.bindings
            .filter((b) => b.vhost === vhost && b.source === e.name)
            .map((b) => ({
              key: b.routing_key,
              arguments: b.arguments ?? {},
              destination: b.destination,
              destinationType: b.destination_type,
            }))
            .sort((a, b) => a.key.localeCompare(b.key) || a.destination.localeCompare(b.destination)),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      queues: defs.queues
        .filter((q) => q.vhost === vhost && (options.includeSystem || !isEvtTapQueue(q.name)))
        .map((q) => graphQueue(defs, q, options.stats?.get(`${vhost}/${q.name}`)))
        .sort((a, b) => a.name.localeCompare(b.name)),
    })),
  }
}

/** evt's own throwaway queues (tail taps, scenario and bench helpers) are not part of a team's topology. */
export function isEvtTapQueue(name: string): boolean {
  return name.startsWith('evt.tap.') || name.startsWith('amq.gen-')
}

/** The keys a queue is bound with, for dead-lettering with the original routing key. */
function keysInto(defs: Definitions, vhost: string, queue: string): string[] {
  return [
    ...new Set(
      defs.bindings
        .filter((b) => b.vhost === vhost && b.destination === queue && b.destination_type === 'queue')
        .map((b) => b.routing_key),
    ),
  ]
}

/**
 * Where a queue's dead letters go, followed to the end: the DLX routes them (with the queue's dead-letter
 * key, else each key the queue is bound with), and each queue they reach may dead-letter further.
 */
export function deadLetterChain(
  defs: Definitions,
  vhost: string,
  queueName: string,
  seen: Set<string> = new Set([queueName]),
): DeadLetterChain | undefined {
  const q = defs.queues.find((x) => x.vhost === vhost && x.name === queueName)
  if (!q) return undefined
  const dl = graphQueue(defs, q).deadLetter
  if (!dl) return undefined
  const keys = dl.routingKey !== undefined ? [dl.routingKey] : keysInto(defs, vhost, queueName)
  const reached = new Set<string>()
  for (const key of keys.length > 0 ? keys : ['']) {
    for (const target of routeMessage(defs, vhost, dl.exchange, key)) reached.add(target)
  }
  return {
    exchange: dl.exchange,
    ...(dl.routingKey === undefined ? {} : {routingKey: dl.routingKey}),
    reaches: [...reached].sort().map((target) => {
      if (seen.has(target)) return {queue: target, cycle: true}
      const next = deadLetterChain(defs, vhost, target, new Set([...seen, target]))
      return next ? {queue: target, next} : {queue: target}
    }),
  }
}

/** Names of the exchanges some other exchange binds to (they are drawn nested under their sources). */
export function boundExchanges(v: VhostGraph): Set<string> {
  const out = new Set<string>()
  for (const e of v.exchanges) for (const b of e.bindings) if (b.destinationType === 'exchange') out.add(b.destination)
  return out
}

/** "quorum · TTL 24h" for a diagram node. */
export function queueFactsShort(q: GraphQueue): string {
  return [q.type, ...(q.ttlMs === undefined ? [] : [`TTL ${formatMs(q.ttlMs)}`])].join(' · ')
}

/** Human duration for a TTL: 86400000 → "24h". */
export function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 86_400_000 * 2) return `${ms / 86_400_000}d`
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}
