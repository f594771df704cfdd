import {UsageError} from '../errors.js'
import {enc, type ManagementClient} from '../management/client.js'
import {DEFAULT_EXCHANGE, type ResolvedTarget} from './resolve.js'

/**
 * How each target is read. An exchange is tapped by a private queue bound to it; a queue is tapped
 * by a private queue that copies the queue's bindings (so the queue itself is never touched);
 * --consume reads the queue itself (destructive), --consume --requeue reads it and puts everything back.
 */

export type TapMode = 'tap' | 'consume' | 'browse'

export interface TapBinding {
  exchange: string
  routingKey: string
  arguments: Record<string, unknown>
}

export interface TapPlan {
  target: ResolvedTarget
  mode: TapMode
  /** Bindings of the private tap queue (mode tap). */
  bindings: TapBinding[]
  /** "exchange ecommerce/orders": the `tap` key of NDJSON records. */
  label: string
  /** The header line: what is read and how. */
  header: string
  /**
   * Read through RabbitMQ's firehose (amq.rabbitmq.trace): the tap queue is bound to the trace exchange and
   * each trace message is unwrapped into the message it reports. `queue`: keep publishes routed to this queue;
   * `exchange`: keep publishes to this exchange.
   */
  firehose?: {queue?: string; exchange?: string}
  /** Direct exchange taps: follow bindings added while the tail runs (management API polling). */
  followDirect?: boolean
}

/** Tap queues are named with this prefix, so `evt status` and people can tell them from user queues. */
export const TAP_PREFIX = 'evt.tap.'
export const TRACE_EXCHANGE = 'amq.rabbitmq.trace'

export interface PlanOptions {
  /** --binding: patterns (topic/direct), or k=v,... pairs for a headers exchange. */
  bindingPatterns: string[]
  consume: boolean
  requeue: boolean
  prefetch: number
  /** --firehose: read every target through the firehose tracer (sees the default exchange too). */
  firehose?: boolean
}

interface LiveBinding {
  source: string
  destination: string
  destination_type: string
  routing_key: string
  arguments: Record<string, unknown>
}

export async function planTaps(
  api: ManagementClient,
  targets: ResolvedTarget[],
  options: PlanOptions,
): Promise<TapPlan[]> {
  return Promise.all(targets.map((t) => planOne(api, t, options)))
}

async function planOne(api: ManagementClient, target: ResolvedTarget, options: PlanOptions): Promise<TapPlan> {
  const label = `${target.kind} ${showVhostName(target.vhost, target.name)}`
  if (target.kind === 'queue' && options.consume) {
    if (options.requeue) {
      return {
        target,
        mode: 'browse',
        bindings: [],
        label,
        header: `browsing ${label} (--consume --requeue): messages are printed, held, and all put back in the queue when the tail stops (marked redelivered); at most --prefetch ${options.prefetch} are held at once`,
      }
    }
    return {
      target,
      mode: 'consume',
      bindings: [],
      label,
      header: `consuming ${label}: DESTRUCTIVE, each message is removed from the queue once it is printed (acked after it is written; delivered-but-unwritten ones are requeued on stop)`,
    }
  }
  if (target.kind === 'exchange' && target.name === DEFAULT_EXCHANGE) {
    return {
      target,
      mode: 'tap',
      bindings: [{exchange: TRACE_EXCHANGE, routingKey: 'publish.', arguments: {}}],
      label,
      header: `tapping ${label} (the default exchange) through the firehose tracer: every message sent to a queue by name, RPC replies to direct reply-to (amq.rabbitmq.reply-to) included; non-destructive`,
      firehose: {exchange: ''},
    }
  }
  if (target.kind === 'exchange' && options.firehose) {
    return {
      target,
      mode: 'tap',
      bindings: [{exchange: TRACE_EXCHANGE, routingKey: `publish.${target.name}`, arguments: {}}],
      label,
      header: `tapping ${label} through the firehose tracer: every message published to it, routed or not; non-destructive`,
      firehose: {exchange: target.name},
    }
  }
  if (target.kind === 'exchange') {
    const bindings = await exchangeBindings(api, target, options.bindingPatterns)
    const shown = bindings.map(showBinding).join(', ')
    return {
      target,
      mode: 'tap',
      bindings,
      label,
      header: `tapping ${label} (${target.type ?? '?'}) with a private auto-delete queue bound ${
        bindings.length === 0 ? 'to no key yet' : shown
      }${target.type === 'direct' && options.bindingPatterns.length === 0 ? ', following keys bound from now on' : ''}: non-destructive, only messages published from now on`,
      followDirect: target.type === 'direct' && options.bindingPatterns.length === 0,
    }
  }
  const live = await api.get<LiveBinding[]>(`/queues/${enc(target.vhost)}/${enc(target.name)}/bindings`)
  const bindings = live
    .filter((b) => b.source !== '')
    .map((b) => ({exchange: b.source, routingKey: b.routing_key, arguments: b.arguments ?? {}}))
  if (bindings.length === 0 || options.firehose) {
    // No binding can copy what the default exchange sends to the queue by name: the firehose can.
    return {
      target,
      mode: 'tap',
      bindings: [
        {exchange: TRACE_EXCHANGE, routingKey: bindings.length === 0 ? 'publish.' : 'publish.#', arguments: {}},
      ],
      label,
      header: `tapping ${label} through the firehose tracer (${
        bindings.length === 0 ? 'it is fed by the default exchange, which a binding cannot copy' : '--firehose'
      }): a copy of each message published to it from now on; its consumers still get every message`,
      firehose: {queue: target.name},
    }
  }
  return {
    target,
    mode: 'tap',
    bindings,
    label,
    header: `tapping ${label} non-destructively: a private queue bound like it (${bindings
      .map((b) => `${b.exchange} ${showBinding(b)}`)
      .join(
        ', ',
      )}) gets a copy of each new message routed to it; the queue keeps its own. Messages sent to it by name via the default exchange are not seen (add --firehose)`,
  }
}

function showBinding(b: TapBinding): string {
  const args = Object.entries(b.arguments)
  if (args.length > 0) return `{${args.map(([k, v]) => `${k}=${String(v)}`).join(', ')}}`
  return `"${b.routingKey}"`
}

async function exchangeBindings(
  api: ManagementClient,
  target: ResolvedTarget,
  patterns: string[],
): Promise<TapBinding[]> {
  const exchange = target.name
  switch (target.type) {
    case 'fanout':
      // Fanout ignores the key: one binding sees everything.
      return [{exchange, routingKey: '', arguments: {}}]
    case 'headers':
      // A headers binding with x-match=all and no header pairs matches every message.
      if (patterns.length === 0) return [{exchange, routingKey: '', arguments: {'x-match': 'all'}}]
      return patterns.map((p) => ({exchange, routingKey: '', arguments: headerArguments(p)}))
    case 'direct': {
      if (patterns.length > 0) return patterns.map((p) => ({exchange, routingKey: p, arguments: {}}))
      // A direct exchange has no wildcard: bind every key its queues use now.
      const live = await api.get<LiveBinding[]>(`/exchanges/${enc(target.vhost)}/${enc(exchange)}/bindings/source`)
      // Keys bound later are followed by the session (followDirect).
      const keys = [...new Set(live.map((b) => b.routing_key))].sort()
      return keys.map((k) => ({exchange, routingKey: k, arguments: {}}))
    }
    default:
      return (patterns.length > 0 ? patterns : ['#']).map((p) => ({exchange, routingKey: p, arguments: {}}))
  }
}

/** "x-match=any,tenant=acme" → binding arguments (x-match defaults to all). */
export function headerArguments(spec: string): Record<string, unknown> {
  const args: Record<string, unknown> = {'x-match': 'all'}
  for (const pair of spec.split(',')) {
    const trimmed = pair.trim()
    if (trimmed === '') continue
    const eq = trimmed.indexOf('=')
    if (eq <= 0) {
      throw new UsageError(
        `--binding "${spec}" for a headers exchange must be NAME=VALUE pairs`,
        'e.g. --binding "x-match=any,tenant=acme,region=eu"',
      )
    }
    args[trimmed.slice(0, eq)] = trimmed.slice(eq + 1)
  }
  return args
}

/** "vhost/name", and "/name" (not "//name") for the default vhost "/". */
export function showVhostName(vhost: string, name: string): string {
  return vhost === '/' ? `/${name}` : `${vhost}/${name}`
}

/** The routing keys bound on a direct exchange now (for following new bindings). */
export async function directKeys(api: ManagementClient, vhost: string, exchange: string): Promise<string[]> {
  const live = await api.get<LiveBinding[]>(`/exchanges/${enc(vhost)}/${enc(exchange)}/bindings/source`)
  return [...new Set(live.map((b) => b.routing_key))]
}
