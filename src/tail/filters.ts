import {UsageError} from '../errors.js'
import {topicMatches} from '../topology/routing.js'

/**
 * The two filters of `evt tail`, compiled once so the per-message check is cheap.
 *
 *   --filter PATTERN   routing-key pattern in topic syntax: words split on ".", "*" one word, "#" zero or more.
 *   --where EXPR       PATH OP VALUE on the message; several --where must all hold.
 *     PATH   dotted path into the JSON body (type, data.total, metadata.tenant) or into
 *            headers.NAME, properties.NAME, routingKey, exchange, vhost.
 *     OP     =  !=  >  >=  <  <=  ~ (regular expression)   and  PATH? (exists) / !PATH (missing)
 *     VALUE  a number, true/false/null, or a string (quotes optional); "*" in = and != is a wildcard.
 */

export interface WhereView {
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: unknown
  headers: Record<string, unknown> | undefined
  properties: object
  routingKey: string
  exchange: string
  vhost: string
}

export type Predicate = (view: WhereView) => boolean

/**
 * Compile topic patterns into one routing-key test (any pattern may match). Routing keys repeat,
 * so answers are cached (bounded) and the matcher runs once per distinct key.
 */
export function compileRoutingFilter(patterns: string[]): ((key: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined
  if (patterns.includes('#')) return () => true
  const cache = new Map<string, boolean>()
  return (key) => {
    const hit = cache.get(key)
    if (hit !== undefined) return hit
    const result = patterns.some((p) => topicMatches(p, key))
    if (cache.size > 10_000) cache.clear()
    cache.set(key, result)
    return result
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

const OPS = ['>=', '<=', '!=', '=', '>', '<', '~'] as const
type Op = (typeof OPS)[number]

const ROOTS = new Set(['headers', 'properties', 'routingKey', 'exchange', 'vhost'])

export function compileWhere(exprs: string[]): Predicate | undefined {
  if (exprs.length === 0) return undefined
  const preds = exprs.map(compileOne)
  if (preds.length === 1) return preds[0]
  return (view) => {
    for (const p of preds) if (!p(view)) return false
    return true
  }
}

function compileOne(raw: string): Predicate {
  const expr = raw.trim()
  if (/^!?[A-Za-z_$][\w$.-]*\??$/.test(expr) && (expr.startsWith('!') || expr.endsWith('?'))) {
    const missing = expr.startsWith('!')
    const get = pathGetter(expr.replace(/^!/, '').replace(/\?$/, ''))
    return missing ? (v) => get(v) === undefined : (v) => get(v) !== undefined
  }
  const m = /^([A-Za-z_$][\w$.-]*)\s*(>=|<=|!=|=|>|<|~)\s*(.*)$/.exec(expr)
  if (!m) {
    throw new UsageError(
      `cannot read --where "${raw}"`,
      'Write PATH OP VALUE, e.g. type=order.created, data.total>100, headers.tenant!=acme, type~^order\\. (OP is one of = != > >= < <= ~), or PATH? / !PATH',
    )
  }
  const [, path, op, valueText] = m as unknown as [string, string, Op, string]
  const get = pathGetter(path)
  if (op === '~') {
    let re: RegExp
    try {
      re = new RegExp(unquote(valueText))
    } catch (err) {
      throw new UsageError(`bad regular expression in --where "${raw}": ${(err as Error).message}`)
    }
    return (v) => {
      const x = get(v)
      return x !== undefined && x !== null && re.test(typeof x === 'string' ? x : JSON.stringify(x))
    }
  }
  const value = parseValue(valueText)
  if (op === '=' || op === '!=') {
    const eq = equalityTest(value)
    return op === '=' ? (v) => eq(get(v)) : (v) => !eq(get(v))
  }
  if ((typeof value !== 'number' && typeof value !== 'string') || value === '') {
    throw new UsageError(`--where "${raw}": ${op} compares numbers or strings`)
  }
  const cmp = comparator(op)
  return (v) => {
    const x = get(v)
    if (typeof value === 'number') {
      const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : Number.NaN
      return !Number.isNaN(n) && cmp(n, value)
    }
    return typeof x === 'string' && cmp(x, value)
  }
}

function comparator(op: '>' | '>=' | '<' | '<='): (a: number | string, b: number | string) => boolean {
  switch (op) {
    case '>':
      return (a, b) => a > b
    case '>=':
      return (a, b) => a >= b
    case '<':
      return (a, b) => a < b
    default:
      return (a, b) => a <= b
  }
}

function equalityTest(value: unknown): (x: unknown) => boolean {
  if (typeof value === 'string' && value.includes('*')) {
    const re = new RegExp(`^${value.split('*').map(escapeRegExp).join('.*')}$`)
    return (x) => x !== undefined && x !== null && re.test(String(x))
  }
  if (typeof value === 'number') return (x) => x === value || (typeof x === 'string' && x !== '' && Number(x) === value)
  if (typeof value === 'string') return (x) => x === value || (typeof x === 'number' && String(x) === value)
  return (x) => x === value
}

function unquote(text: string): string {
  const t = text.trim()
  if (t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")))) {
    return t.slice(1, -1)
  }
  return t
}

export function parseValue(text: string): unknown {
  const t = text.trim()
  if (t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")))) {
    return t.slice(1, -1)
  }
  if (t === 'true') return true
  if (t === 'false') return false
  if (t === 'null') return null
  if (t !== '' && /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t)
  return t
}

function pathGetter(path: string): (view: WhereView) => unknown {
  const parts = path.split('.')
  const root = parts[0]
  if (ROOTS.has(root)) {
    const rest = parts.slice(1)
    if (root === 'routingKey' || root === 'exchange' || root === 'vhost') {
      const key = root
      return (v) => dig(v[key], rest)
    }
    const key = root as 'headers' | 'properties'
    return (v) => dig(v[key], rest)
  }
  return (v) => dig(v.body, parts)
}

function dig(value: unknown, parts: string[]): unknown {
  let cur = value
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[p]
  }
  return cur
}
