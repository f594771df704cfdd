import type {Definitions} from '../definitions.js'
import {routeMessage} from '../routing.js'
import {deadLetterChain} from './graph.js'

/** A catalogue type reduced to what routing needs (a sample routing key, templates filled). */
export interface RoutedType {
  type: string
  vhost: string
  exchange: string
  routingKey: string
}

export interface EventRoute extends RoutedType {
  queues: string[]
}

export interface RouteFindings {
  /** Types whose messages reach no queue: published, then dropped (or returned when mandatory). */
  unroutedTypes: EventRoute[]
  /** Queues no catalogue type reaches, directly or by dead-lettering. */
  unreachedQueues: {vhost: string; queue: string}[]
  /** A queue dead-letters to an exchange that routes those messages nowhere: dead letters are lost. */
  deadLetterGaps: {vhost: string; queue: string; exchange: string; routingKey: string}[]
}

/**
 * Where each catalogue type lands, and what looks wrong: the same findings as the `topology` scenario,
 * computed from the definitions alone (no message is published).
 */
export function eventRoutes(
  defs: Definitions,
  types: RoutedType[],
  vhosts?: string[],
): {routes: EventRoute[]; findings: RouteFindings} {
  const inScope = (vhost: string) => !vhosts || vhosts.includes(vhost)
  const routes = types
    .filter((t) => inScope(t.vhost))
    .map((t) => ({...t, queues: routeMessage(defs, t.vhost, t.exchange, t.routingKey)}))

  const reached = new Set<string>()
  const deadLetterGaps: RouteFindings['deadLetterGaps'] = []
  const gapSeen = new Set<string>()
  const visit = (vhost: string, queue: string, keys: string[]) => {
    const id = `${vhost}/${queue}`
    if (reached.has(id)) return
    reached.add(id)
    const chain = deadLetterChain(defs, vhost, queue)
    if (!chain) return
    // Dead letters keep their routing key unless the queue sets one.
    const dlKeys = chain.routingKey !== undefined ? [chain.routingKey] : keys
    for (const key of dlKeys) {
      const targets = routeMessage(defs, vhost, chain.exchange, key)
      if (targets.length === 0 && !gapSeen.has(`${id}|${key}`)) {
        gapSeen.add(`${id}|${key}`)
        deadLetterGaps.push({vhost, queue, exchange: chain.exchange, routingKey: key})
      }
      for (const target of targets) visit(vhost, target, [key])
    }
  }
  for (const r of routes) for (const q of r.queues) visit(r.vhost, q, [r.routingKey])

  const unreachedQueues = defs.queues
    .filter((q) => inScope(q.vhost) && types.some((t) => t.vhost === q.vhost) && !reached.has(`${q.vhost}/${q.name}`))
    .map((q) => ({vhost: q.vhost, queue: q.name}))
    .sort((a, b) => a.vhost.localeCompare(b.vhost) || a.queue.localeCompare(b.queue))

  return {
    routes,
    findings: {unroutedTypes: routes.filter((r) => r.queues.length === 0), unreachedQueues, deadLetterGaps},
  }
}

export function findingCount(f: RouteFindings): number {
  return f.unroutedTypes.length + f.unreachedQueues.length + f.deadLetterGaps.length
}
