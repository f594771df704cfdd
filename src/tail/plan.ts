import {UsageError} from '../errors.js'
import {enc, type ManagementClient} from '../management/client.js'
import type {ResolvedTarget} from './resolve.js'

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
}

export interface PlanOptions {
  /** --binding: patterns (topic/direct), or k=v,... pairs for a headers exchange. */
  bindingPatterns: string[]
  consume: boolean
  requeue: boolean
  prefetch: number
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
  const label = `${target.kind} ${target.vhost}/${target.name}`
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
  if (target.kind === 'exchange') {
    const bindings = await exchangeBindings(api, target, options.bindingPatterns)
    const shown = bindings.map(showBinding).join(', ')
    return {
      target,
      mode: 'tap',
      bindings,
      label,
      header: `tapping ${label} (${target.type ?? '?'}) with a private auto-delete queue bound ${shown}: non-destructive, only messages published from now on`,
    }
  }
  const live = await api.get<LiveBinding[]>(`/queues/${enc(target.vhost)}/${enc(target.name)}/bindings`)
  const bindings = live
    .filter((b) => b.source !== '')
    .map((b) => ({exchange: b.source, routingKey: b.routing_key, arguments: b.arguments ?? {}}))
  if (bindings.length === 0) {
    throw new UsageError(
      `${label} is bound only to the default exchange: a copy of its messages cannot be taken without consuming them`,
      'Read it with --consume (destructive) or --consume --requeue (prints and puts everything back)',
    )
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
      )}) gets a copy of each new message routed to it; the queue keeps its own. Messages sent to it by name via the default exchange are not seen (use --consume)`,
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
      const keys = [...new Set(live.map((b) => b.routing_key))].sort()
      if (keys.length === 0) {
        throw new UsageError(
          `direct exchange ${target.vhost}/${exchange} has no bindings, so there is no key to tap`,
          'Name the routing keys with --binding KEY (repeatable)',
        )
      }
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
