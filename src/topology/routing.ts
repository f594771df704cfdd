/**
 * How RabbitMQ routes a message, as pure functions over definitions: used to predict where a
 * catalogue event lands (publish tests, the topology scenario) and to filter routing keys (tail).
 */

/** AMQP topic matching: words split on ".", "*" matches exactly one word, "#" zero or more. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const p = pattern === '' ? [] : pattern.split('.')
  const k = routingKey === '' ? [] : routingKey.split('.')
  const memo = new Map<string, boolean>()
  const match = (i: number, j: number): boolean => {
    const key = `${i},${j}`
    const cached = memo.get(key)
    if (cached !== undefined) return cached
    let result: boolean
    if (i === p.length) result = j === k.length
    else if (p[i] === '#') result = match(i + 1, j) || (j < k.length && match(i, j + 1))
    else result = j < k.length && (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1)
    memo.set(key, result)
    return result
  }
  return match(0, 0)
}

export interface RoutingExchange {
  name: string
  vhost: string
  type: string
  arguments?: Record<string, unknown>
}

export interface RoutingBinding {
  source: string
  vhost: string
  destination: string
  destination_type: 'queue' | 'exchange'
  routing_key: string
  arguments?: Record<string, unknown>
}

export interface RoutingDefinitions {
  exchanges: RoutingExchange[]
  bindings: RoutingBinding[]
  queues?: {name: string; vhost: string}[]
}

function headersMatch(bindingArgs: Record<string, unknown> = {}, headers: Record<string, unknown> = {}): boolean {
  const mode = String(bindingArgs['x-match'] ?? 'all')
  const pairs = Object.entries(bindingArgs).filter(([k]) => !k.startsWith('x-'))
  if (pairs.length === 0) return mode.startsWith('all')
  const hits = pairs.filter(([k, v]) => k in headers && (v === undefined || v === '' || headers[k] === v))
  return mode.startsWith('any') ? hits.length > 0 : hits.length === pairs.length
}

function bindingMatches(
  exchangeType: string,
  binding: RoutingBinding,
  routingKey: string,
  headers?: Record<string, unknown>,
): boolean {
  switch (exchangeType) {
    case 'fanout':
      return true
    case 'direct':
      return binding.routing_key === routingKey
    case 'topic':
      return topicMatches(binding.routing_key, routingKey)
    case 'headers':
      return headersMatch(binding.arguments, headers)
    default:
      // Plugin exchange types (x-consistent-hash, x-delayed-message ...) cannot be predicted here.
      return false
  }
}

/**
 * The queues (as "vhost/name" keys are ambiguous, plain names within the vhost) a message published to
 * `exchange` with `routingKey` reaches, following exchange-to-exchange bindings and alternate exchanges.
 * The default exchange ("") routes to the queue named by the key.
 */
export function routeMessage(
  defs: RoutingDefinitions,
  vhost: string,
  exchange: string,
  routingKey: string,
  headers?: Record<string, unknown>,
): string[] {
  const queues = new Set<string>()
  const seen = new Set<string>()
  const visit = (name: string) => {
    if (seen.has(name)) return
    seen.add(name)
    if (name === '') {
      if (defs.queues?.some((q) => q.vhost === vhost && q.name === routingKey)) queues.add(routingKey)
      return
    }
    const ex = defs.exchanges.find((e) => e.vhost === vhost && e.name === name)
    if (!ex) return
    let routed = false
    for (const b of defs.bindings) {
      if (b.vhost !== vhost || b.source !== name) continue
      if (!bindingMatches(ex.type, b, routingKey, headers)) continue
      if (b.destination_type === 'queue') {
        queues.add(b.destination)
        routed = true
      } else {
        const before = queues.size
        visit(b.destination)
        if (queues.size > before) routed = true
      }
    }
    const alternate = ex.arguments?.['alternate-exchange']
    if (!routed && typeof alternate === 'string') visit(alternate)
  }
  visit(exchange)
  return [...queues].sort()
}
