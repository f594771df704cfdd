import {connectAmqp} from '../amqp/connect.js'
import {parseAmqpUrl, withVhost} from '../config/url.js'
import {UsageError} from '../errors.js'
import {headerArguments, type PlanOptions, showVhostName, type TapPlan, TRACE_EXCHANGE} from './plan.js'
import type {ResolvedTarget, TargetKind, TargetRequest} from './resolve.js'

/**
 * `evt tail` without the management API: names are checked with passive declares (exists or not, nothing
 * else), exchanges are tapped with "#" (or --binding), queues through the firehose if tracing is already on.
 * What is lost: name suggestions, exchange types, a queue's bindings, turning tracing on, following new keys.
 */

export const OFFLINE_NOTICE =
  'the management API is not reachable: working over AMQP alone (no name suggestions; exchange types and queue bindings unknown, so exchanges are tapped with "#" or --binding, and queues only through the firehose when tracing is already on, or with --consume)'

/** Resolve each request by passive declares in its vhost (VHOST/NAME, --vhost, or the URL's). */
export async function resolveOffline(
  amqpUrl: string,
  requests: TargetRequest[],
  vhost?: string,
): Promise<ResolvedTarget[]> {
  const out: ResolvedTarget[] = []
  for (const req of requests) {
    let v = vhost ?? parseAmqpUrl(amqpUrl).vhost ?? '/'
    let name = req.name
    const slash = name.indexOf('/')
    if (vhost === undefined && slash >= 0) {
      v = slash === 0 ? '/' : name.slice(0, slash)
      name = name.slice(slash + 1)
    }
    const kinds: TargetKind[] = req.kind ? [req.kind] : ['exchange', 'queue']
    const found: TargetKind[] = []
    const conn = await connectAmqp(withVhost(amqpUrl, v), {connectionName: 'evt tail (check)'})
    conn.on('error', () => undefined)
    try {
      for (const kind of kinds) {
        // A passive declare of a missing object closes its channel: one channel per check.
        const ch = await conn.createChannel()
        ch.on('error', () => undefined)
        try {
          if (kind === 'exchange') await ch.checkExchange(name)
          else await ch.checkQueue(name)
          found.push(kind)
          await ch.close().catch(() => undefined)
        } catch {
          // not there
        }
      }
    } finally {
      await conn.close().catch(() => undefined)
    }
    if (found.length === 0) {
      throw new UsageError(
        `no ${req.kind ?? 'exchange or queue'} named "${name}" in vhost ${v}`,
        'Without the management API evt cannot suggest names: check the name and the vhost (--vhost, or VHOST/NAME)',
      )
    }
    if (found.length > 1) {
      throw new UsageError(
        `"${name}" is ambiguous in vhost ${v}: there is an exchange and a queue of that name`,
        `Choose with --exchange ${name} or --queue ${name}`,
      )
    }
    out.push({kind: found[0], vhost: v, name, live: true})
  }
  return out
}

export function planOffline(targets: ResolvedTarget[], options: PlanOptions): TapPlan[] {
  return targets.map((target): TapPlan => {
    const label = `${target.kind} ${showVhostName(target.vhost, target.name)}`
    if (target.kind === 'queue' && options.consume) {
      const browse = options.requeue
      return {
        target,
        mode: browse ? 'browse' : 'consume',
        bindings: [],
        label,
        header: browse
          ? `browsing ${label} (--consume --requeue): messages are printed, held, and all put back when the tail stops`
          : `consuming ${label}: DESTRUCTIVE, each message is removed from the queue once the reader has taken it`,
      }
    }
    if (target.kind === 'exchange') {
      const patterns = options.bindingPatterns.length > 0 ? options.bindingPatterns : ['#']
      return {
        target,
        mode: 'tap',
        bindings: patterns.map((p) => ({
          exchange: target.name,
          routingKey: p.includes('=') ? '' : p,
          arguments: p.includes('=') ? headerArguments(p) : {},
        })),
        label,
        header: `tapping ${label} with a private auto-delete queue bound ${patterns
          .map((p) => `"${p}"`)
          .join(', ')} (type unknown without the management API: a direct exchange needs --binding KEY)`,
      }
    }
    return {
      target,
      mode: 'tap',
      bindings: [{exchange: TRACE_EXCHANGE, routingKey: 'publish.#', arguments: {}}],
      label,
      header: `tapping ${label} through the firehose tracer, which evt cannot turn on without the management API: messages show only if tracing is on (\`rabbitmqctl trace_on -p ${target.vhost}\`)`,
      firehose: {queue: target.name},
    }
  })
}
