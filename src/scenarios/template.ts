import {UsageError} from '../errors.js'

const WHOLE = /^\$\{([^}]+)\}$/
const ANY = /\$\{([^}]+)\}/g

/** Look a dotted path up in the variables: `even.perConsumer.0`, `dead.first.headers.x-death.0.reason`. */
export function lookup(vars: Record<string, unknown>, path: string, where: string): unknown {
  let value: unknown = vars
  for (const part of path.trim().split('.')) {
    if (value === null || value === undefined || typeof value !== 'object' || !(part in (value as object))) {
      throw new UsageError(
        `${where}: \${${path}} is not defined`,
        `Known names: ${Object.keys(vars).join(', ')} (a step's result is named by its "as")`,
      )
    }
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

/**
 * Resolve ${...} templates in a step's spec. A string that is exactly one template keeps the value's
 * type (a number, a list); templates inside longer text are interpolated.
 */
export function resolve(value: unknown, vars: Record<string, unknown>, where: string): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value)
    if (whole) return lookup(vars, whole[1], where)
    return value.replace(ANY, (_m, path: string) => show(lookup(vars, path, where)))
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
        const parts = m[1].trim().split('.')
        if (parts[0] === 'params' && parts[1]) refs.push(parts[1])
      }
    } else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') Object.values(v).forEach(walk)
  }
  walk(value)
  return refs
}
