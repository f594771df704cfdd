import {UsageError} from '../errors.js'

const WHOLE = /^\$\{([^}]+)\}$/
const ANY = /\$\{([^}]+)\}/g

/** Look a dotted path up in the variables: `even.perConsumer.0`, `dead.first.headers.x-death.0.reason`. */
export function lookup(vars: Record<string, unknown>, path: string, where: string): unknown {
  const parts = path.trim().split('.')
  let value: unknown = vars
  let i = 0
  while (i < parts.length) {
    const obj = value as Record<string, unknown>
    // Names may hold dots (a queue called deadletter.orders): try the longest key first.
    let j = parts.length
    if (value !== null && typeof value === 'object') {
      while (j > i && !(parts.slice(i, j).join('.') in obj)) j--
    } else j = i
    if (j === i) {
      throw new UsageError(
        `${where}: \${${path}} is not defined`,
        `Known names: ${Object.keys(vars).join(', ')} (a step's result is named by its "as")`,
      )
    }
    value = obj[parts.slice(i, j).join('.')]
    i = j
  }
  return value
}

const OPERATOR = /\s+(==|!=|[*+/-])\s+/

/**
 * A template's expression: a dotted path, or operands joined by * / + - (numbers, usual precedence)
 * and == != (compared as text), with spaces around each operator (names may hold dashes: x-death).
 */
export function evaluate(vars: Record<string, unknown>, expression: string, where: string): unknown {
  const tokens = expression.trim().split(OPERATOR)
  if (tokens.length === 1) return lookup(vars, expression, where)
  const values: unknown[] = tokens.map((t, i) => (i % 2 === 0 ? operand(vars, t, where) : t))
  const number = (v: unknown) => {
    const n = Number(v)
    if (typeof v === 'boolean' || !Number.isFinite(n))
      throw new UsageError(`${where}: \${${expression}}: ${show(v)} is not a number`)
    return n
  }
  for (const ops of [
    ['*', '/'],
    ['+', '-'],
    ['==', '!='],
  ]) {
    for (let i = 1; i < values.length; ) {
      const op = values[i] as string
      if (!ops.includes(op)) {
        i += 2
        continue
      }
      const [a, b] = [values[i - 1], values[i + 1]]
      let r: unknown
      if (op === '==') r = show(a) === show(b)
      else if (op === '!=') r = show(a) !== show(b)
      else {
        const [x, y] = [number(a), number(b)]
        r = Math.round((op === '*' ? x * y : op === '/' ? x / y : op === '+' ? x + y : x - y) * 1000) / 1000
      }
      values.splice(i - 1, 3, r)
    }
  }
  return values[0]
}

function operand(vars: Record<string, unknown>, text: string, where: string): unknown {
  const t = text.trim()
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t)
  if (t === 'true' || t === 'false') return t === 'true'
  if (/^(['"]).*\1$/.test(t)) return t.slice(1, -1)
  return lookup(vars, t, where)
}

/**
 * Resolve ${...} templates in a step's spec. A string that is exactly one template keeps the value's
 * type (a number, a list); templates inside longer text are interpolated.
 */
export function resolve(value: unknown, vars: Record<string, unknown>, where: string): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value)
    if (whole) return evaluate(vars, whole[1], where)
    return value.replace(ANY, (_m, expression: string) => show(evaluate(vars, expression, where)))
  }
  if (Array.isArray(value)) return value.map((v, i) => resolve(v, vars, `${where}[${i}]`))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, vars, `${where}.${k}`)]))
  }
  return value
}

/** A value as one short line of text, for tables and interpolation. */
export function show(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100)
  if (value === undefined) return '(none)'
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  return JSON.stringify(value)
}

export function truthy(value: unknown): boolean {
  if (typeof value === 'string') return !['', 'false', '0', 'no', 'off'].includes(value.trim().toLowerCase())
  return Boolean(value)
}

/** The ${params.x} names a piece of a scenario file refers to. */
export function paramRefs(value: unknown): string[] {
  const refs: string[] = []
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(ANY)) {
        for (const word of m[1].split(/\s+/)) {
          const parts = word.split('.')
          if (parts[0] === 'params' && parts[1]) refs.push(parts[1])
        }
      }
    } else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') Object.values(v).forEach(walk)
  }
  walk(value)
  return refs
}
