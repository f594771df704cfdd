import type {SchemaNode} from '../catalogue/types.js'

/**
 * A JSON Schema and a fake-data recipe inferred from sample values (what `evt init --from-broker` saw).
 * Every inferred node carries `x-inferred: true` so that a reader knows no one wrote it. The schema accepts
 * every sample it was inferred from: types are the union seen, a property is required only when every sample
 * has it, numbers get the observed range, strings a format, an enum or a pattern only when all samples fit.
 */
export function inferSchema(samples: unknown[]): SchemaNode {
  const node = inferNode(samples)
  return {$comment: `inferred from ${samples.length} message${samples.length === 1 ? '' : 's'}`, ...node}
}

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

function inferNode(values: unknown[]): SchemaNode {
  const kinds = new Set(values.map(kindOf))
  if (kinds.has('integer') && kinds.has('number')) kinds.delete('integer')
  if (kinds.size === 0) return {'x-inferred': true}
  if (kinds.size > 1) {
    // Mixed types: accept each kind seen; the recipe uses the first.
    return {type: [...kinds].sort(), 'x-inferred': true, 'x-value': values[0] ?? null}
  }
  const [kind] = [...kinds] as [string]
  switch (kind) {
    case 'object':
      return inferObject(values as Record<string, unknown>[])
    case 'array': {
      const items = (values as unknown[][]).flat()
      const lengths = (values as unknown[][]).map((a) => a.length)
      return {
        type: 'array',
        'x-inferred': true,
        items: items.length > 0 ? inferNode(items) : {},
        minItems: Math.min(...lengths),
        maxItems: Math.max(...lengths),
      }
    }
    case 'integer':
    case 'number': {
      const nums = values as number[]
      return {type: kind, 'x-inferred': true, minimum: Math.min(...nums), maximum: Math.max(...nums)}
    }
    case 'string':
      return inferString(values as string[])
    case 'boolean':
      return {type: 'boolean', 'x-inferred': true}
    default:
      return {type: 'null', 'x-inferred': true}
  }
}

function inferObject(values: Record<string, unknown>[]): SchemaNode {
  const keys: string[] = []
  for (const v of values) for (const k of Object.keys(v)) if (!keys.includes(k)) keys.push(k)
  const properties: Record<string, SchemaNode> = {}
  for (const k of keys) properties[k] = inferNode(values.filter((v) => k in v).map((v) => v[k]))
  const required = keys.filter((k) => values.every((v) => k in v))
  return {type: 'object', 'x-inferred': true, properties, ...(required.length > 0 ? {required} : {})}
}

const FORMATS: [string, RegExp][] = [
  ['date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/],
  ['date', /^\d{4}-\d{2}-\d{2}$/],
  ['uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i],
  ['email', /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i],
  ['uri', /^https?:\/\/\S+$/],
]

function inferString(values: string[]): SchemaNode {
  const base: SchemaNode = {type: 'string', 'x-inferred': true}
  for (const [format, re] of FORMATS) if (values.every((v) => re.test(v))) return {...base, format}
  const distinct = [...new Set(values)]
  // Few values, each seen more than once: an enumeration.
  if (distinct.length <= 6 && values.length >= 2 * distinct.length) return {...base, enum: distinct.sort()}
  // A common prefix and digits (order_1042, IMO-9321483): a pattern and its recipe.
  const m = values.map((v) => /^([A-Za-z_-]*?)(\d+)$/.exec(v))
  const prefix = m[0]?.[1]
  if (m.every((x) => x !== null && x[1] === prefix)) {
    const lengths = m.map((x) => x?.[2]?.length ?? 0)
    const min = Math.min(...lengths)
    const max = Math.max(...lengths)
    // The prefix is letters, _ and - only: literal in a pattern (and `\-` is invalid in ajv's unicode mode).
    const escaped = prefix ?? ''
    return {
      ...base,
      pattern: `^${escaped}\\d{${min === max ? min : `${min},${max}`}}$`,
      'x-pattern': `${prefix}{{number:${max}}}`,
      ...(min === max ? {} : {'x-note': 'digit count varies: generated values use the longest'}),
    }
  }
  // Free text: the observed length range (the recipe's default string fits it).
  const lengths = values.map((v) => v.length)
  return {...base, minLength: Math.min(...lengths), maxLength: Math.max(...lengths)}
}
