import type {Faker} from '@faker-js/faker'
import type {SchemaNode} from './types.js'

/**
 * The fake recipe language: a schema is its own recipe. Each node is generated from, in order,
 * `x-value` (a literal), `const`, `x-derive` (computed after everything else), `x-faker` (+ `x-faker-args`),
 * `x-pattern`, `enum`, then its `type`/`format` defaults. docs/publish.md documents the language.
 */

export interface RecipeContext {
  faker: Faker
  /** "Now" for generated dates: fixed when seeded, so a run is reproducible. */
  refDate: Date
}

interface Derivation {
  path: (string | number)[]
  expr: string
  node: SchemaNode
}

export interface GeneratedData {
  data: Record<string, unknown>
  derivations: Derivation[]
}

/** Generate a value for every node; derivations are recorded, to be applied after overrides. */
export function generateRaw(schema: SchemaNode, ctx: RecipeContext): GeneratedData {
  const derivations: Derivation[] = []
  const data = generateNode(schema, ctx, [], derivations) as Record<string, unknown>
  return {data, derivations}
}

/** A literal from the schema, copied only when it could be mutated (a pool builds a thousand payloads). */
function literal(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? structuredClone(value) : value
}

/** `path` is the node's place, shared and restored by the caller: copied only when a derivation keeps it. */
function generateNode(
  node: SchemaNode,
  ctx: RecipeContext,
  path: (string | number)[],
  derivations: Derivation[],
): unknown {
  if ('x-value' in node) return literal(node['x-value'])
  if ('const' in node) return literal(node.const)
  if (node['x-derive']) {
    derivations.push({path: [...path], expr: node['x-derive'], node})
    return undefined
  }
  if (node['x-faker']) return coerce(callFaker(ctx, node['x-faker'], node['x-faker-args']), node)
  if (node['x-pattern']) return fillPattern(node['x-pattern'], ctx)
  if (node.enum) return ctx.faker.helpers.arrayElement(node.enum)
  if (typeof node.pattern === 'string' && (node.type === undefined || node.type === 'string'))
    return fromPattern(node.pattern, ctx)
  const type = Array.isArray(node.type) ? node.type[0] : node.type
  const {faker} = ctx
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {}
      const properties = node.properties
      for (const key in properties) {
        path.push(key)
        out[key] = generateNode(properties[key] as SchemaNode, ctx, path, derivations)
        path.pop()
      }
      return out
    }
    case 'array': {
      const min = node.minItems ?? 1
      const n = faker.number.int({min, max: node.maxItems ?? min + 2})
      const items = node.items ?? {type: 'string'}
      const out: unknown[] = []
      for (let i = 0; i < n; i++) {
        path.push(i)
        out.push(generateNode(items, ctx, path, derivations))
        path.pop()
      }
      return out
    }
    case 'integer':
      return faker.number.int({min: node.minimum ?? 0, max: node.maximum ?? 1000})
    case 'number':
      return round(faker.number.float({min: node.minimum ?? 0, max: node.maximum ?? 1000}), node)
    case 'boolean':
      return faker.datatype.boolean()
    case 'null':
      return null
    default:
      return stringByFormat(node, ctx)
  }
}

/**
 * A string matching a schema's `pattern` (simple regular expressions: classes, \\d \\w, quantifiers), for
 * imported schemas that carry no `x-pattern`. A pattern too rich for this is a clear error, not bad data.
 */
export function fromPattern(pattern: string, ctx: RecipeContext): string {
  const re = new RegExp(pattern)
  const simple = pattern
    .replace(/^\^/, '')
    .replace(/\$$/, '')
    .replace(/\\d/g, '[0-9]')
    .replace(/\\w/g, '[a-zA-Z0-9_]')
    .replace(/\{(\d+),\}/g, (_m, n: string) => `{${n},${Number(n) + 3}}`)
    .replace(/([^\\])\+/g, '$1{1,8}')
    .replace(/([^\\])\*/g, '$1{0,5}')
    .replace(/\\([+.*?()|/$^-])/g, '[$1]')
  for (let attempt = 0; attempt < 5; attempt++) {
    const value = ctx.faker.helpers.fromRegExp(simple)
    if (re.test(value)) return value
  }
  throw new Error(`cannot generate a string for the pattern ${pattern}: add an x-pattern recipe (docs/publish.md)`)
}

function stringByFormat(node: SchemaNode, ctx: RecipeContext): string {
  const {faker, refDate} = ctx
  switch (node.format) {
    case 'date-time':
      return faker.date.recent({days: 30, refDate}).toISOString()
    case 'date':
      return faker.date.recent({days: 30, refDate}).toISOString().slice(0, 10)
    case 'email':
      return faker.internet.email().toLowerCase()
    case 'uuid':
      return faker.string.uuid()
    case 'uri':
      return faker.internet.url()
    default: {
      const min = node.minLength ?? 1
      const word = faker.lorem.word()
      return word.length >= min ? word.slice(0, node.maxLength ?? word.length) : word.padEnd(min, 'x')
    }
  }
}

function round(value: number, node: SchemaNode): number {
  const decimals = node['x-decimals'] ?? 2
  const f = 10 ** decimals
  return Math.round(value * f) / f
}

/** Make a faker result fit the node's declared type (dates to ISO strings, numbers rounded). */
function coerce(value: unknown, node: SchemaNode): unknown {
  if (value instanceof Date) return node.format === 'date' ? value.toISOString().slice(0, 10) : value.toISOString()
  if (node.type === 'integer' && typeof value === 'number') return Math.round(value)
  if (node.type === 'number' && typeof value === 'number') return round(value, node)
  if (node.type === 'number' && typeof value === 'string') return round(Number(value), node)
  if (node.type === 'string' && typeof value !== 'string') return String(value)
  return value
}

/** Call e.g. `commerce.productName` on faker; object args are passed as one argument, arrays spread. */
export function callFaker(ctx: RecipeContext, method: string, args?: unknown): unknown {
  let target: unknown = ctx.faker
  let owner: unknown
  for (const part of method.split('.')) {
    owner = target
    target = (target as Record<string, unknown> | undefined)?.[part]
  }
  if (typeof target !== 'function') throw new Error(`unknown faker method "${method}"`)
  let list: unknown[]
  if (args === undefined) list = []
  else if (Array.isArray(args)) list = args
  else list = [args]
  if (method.startsWith('date.')) list = list.map((a) => withRefDate(a, ctx.refDate))
  if (method.startsWith('date.') && list.length === 0) list = [{refDate: ctx.refDate}]
  return (target as (...a: unknown[]) => unknown).apply(owner, list)
}

function withRefDate(arg: unknown, refDate: Date): unknown {
  if (arg && typeof arg === 'object' && !Array.isArray(arg) && !('refDate' in arg)) return {...arg, refDate}
  return arg
}

const PATTERN_TOKEN = /\{\{\s*([a-z]+)(?::(\d+))?\s*\}\}/g

/**
 * The characters each random placeholder draws from, in the order faker.string.* draw them (hex: faker draws
 * from both cases, then lowers them), so a seed gives the values it gave when these called faker.string.
 */
const PATTERN_CHARACTERS: Record<string, string> = {
  number: '0123456789',
  alpha: 'abcdefghijklmnopqrstuvwxyz',
  alnum: '0123456789abcdefghijklmnopqrstuvwxyz',
  upper: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  hex: '0123456789abcdefabcdef',
}

type PatternPart = string | {token: 'year' | 'uuid'} | {characters: string; length: number}

/**
 * A parser that parses each text once: a pool fills the same few patterns, derivations and paths thousands of
 * times. What it returns is shared: callers must not change it.
 */
function parsedOnce<T>(parse: (text: string) => T): (text: string) => T {
  const parsed = new Map<string, T>()
  return (text) => {
    let value = parsed.get(text)
    if (value === undefined) {
      value = parse(text)
      parsed.set(text, value)
    }
    return value
  }
}

const compilePattern = parsedOnce((pattern): readonly PatternPart[] => {
  const parts: PatternPart[] = []
  let last = 0
  for (const m of pattern.matchAll(PATTERN_TOKEN)) {
    const token = m[1] as string
    if (m.index > last) parts.push(pattern.slice(last, m.index))
    last = m.index + m[0].length
    const length = m[2] === undefined ? 1 : Number(m[2])
    const characters = PATTERN_CHARACTERS[token]
    if (characters) parts.push({characters, length})
    else if (token === 'year' || token === 'uuid') parts.push({token})
    else throw new Error(`unknown x-pattern placeholder {{${token}}} in "${pattern}"`)
  }
  if (last < pattern.length) parts.push(pattern.slice(last))
  return parts
})

/**
 * `x-pattern` placeholders: {{year}} (of the reference date), {{number:N}} N digits, {{alpha:N}} lowercase
 * letters, {{alnum:N}} lowercase letters and digits, {{upper:N}} uppercase letters and digits, {{hex:N}}, {{uuid}}.
 */
export function fillPattern(pattern: string, ctx: RecipeContext): string {
  const {faker} = ctx
  let out = ''
  for (const part of compilePattern(pattern)) {
    if (typeof part === 'string') out += part
    else if ('characters' in part) {
      // One draw per character from faker's seeded randomizer: what faker.string.* do, without their arrays.
      const {characters, length} = part
      for (let i = 0; i < length; i++) out += characters[faker.number.int(characters.length - 1)]
    } else out += part.token === 'year' ? String(ctx.refDate.getUTCFullYear()) : faker.string.uuid()
  }
  return out
}

// ---- derivations ----------------------------------------------------------------------------------------

const DERIVE = /^\s*([a-z]+)\((.*)\)\s*$/

/** Check an `x-derive` expression without evaluating it (the catalogue loader calls this). */
export const parseDerivation = parsedOnce((expr): {readonly fn: string; readonly args: readonly string[]} => {
  const m = DERIVE.exec(expr)
  if (!m) throw new Error(`bad x-derive "${expr}": expected fn(args)`)
  const fn = m[1] as string
  const args = (m[2] as string).split(',').map((a) => a.trim())
  const known = ['sum', 'copy', 'lte', 'gte', 'after', 'other']
  if (!known.includes(fn))
    throw new Error(`unknown x-derive function "${fn}" in "${expr}" (known: ${known.join(', ')})`)
  return {fn, args}
})

/** Paths such as `items[0].price` or `payment.amount` into segments. */
export const parsePath = parsedOnce((path): readonly (string | number)[] => {
  const out: (string | number)[] = []
  for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (part === '') continue
    out.push(/^\d+$/.test(part) ? Number(part) : part)
  }
  return out
})

export function getPath(root: unknown, path: readonly (string | number)[]): unknown {
  let cur = root
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[key]
  }
  return cur
}

export function setPath(root: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  let cur: Record<string | number, unknown> = root
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string | number
    const next = cur[key]
    if (next === null || typeof next !== 'object') cur[key] = typeof path[i + 1] === 'number' ? [] : {}
    cur = cur[key] as Record<string | number, unknown>
  }
  cur[path[path.length - 1] as string | number] = value
}

/** The factors of a sum: `items[].price * items[].quantity` → each list and field path. */
const sumTerms = parsedOnce((arg) =>
  arg
    .split('*')
    .map((f) => f.trim())
    .map((f) => {
      const m = /^(.+)\[\]\.(.+)$/.exec(f)
      if (!m) throw new Error(`bad sum() term "${f}": expected list[].field`)
      return {list: parsePath(m[1] as string), field: parsePath(m[2] as string)}
    }),
)

/** Sum over array items: `sum(items[].price * items[].quantity)` or `sum(items[].total)`. */
function evalSum(data: unknown, arg: string, node: SchemaNode): number {
  const arrays = sumTerms(arg)
  const list = getPath(data, arrays[0]?.list ?? [])
  if (!Array.isArray(list)) return 0
  let total = 0
  for (const item of list) {
    let product = 1
    for (const a of arrays) product *= Number(getPath(item, a.field) ?? 0)
    total += product
  }
  return round(total, node)
}

/**
 * Apply the recorded derivations in document order, skipping those whose path the user overrode,
 * so a total still follows edited items but an explicit `--set total=…` wins.
 */
export function applyDerivations(
  data: Record<string, unknown>,
  derivations: Derivation[],
  ctx: RecipeContext,
  overridden: (path: (string | number)[]) => boolean = () => false,
): void {
  const {faker} = ctx
  for (const d of derivations) {
    if (overridden(d.path)) continue
    const {fn, args} = parseDerivation(d.expr)
    const ref = getPath(data, parsePath(args[0] ?? ''))
    const isInt = d.node.type === 'integer'
    let value: unknown
    switch (fn) {
      case 'sum':
        value = evalSum(data, args[0] ?? '', d.node)
        break
      case 'copy':
        value = literal(ref)
        break
      case 'lte': {
        const max = Number(ref ?? 0)
        const min = Math.min(d.node.minimum ?? 0, max)
        value = isInt ? faker.number.int({min, max}) : round(faker.number.float({min, max}), d.node)
        break
      }
      case 'gte': {
        const min = Number(ref ?? 0)
        const max = Math.max(d.node.maximum ?? min * 2, min)
        value = isInt ? faker.number.int({min, max}) : round(faker.number.float({min, max}), d.node)
        break
      }
      case 'after': {
        const base = Date.parse(String(ref))
        const from = Number.isNaN(base) ? ctx.refDate.getTime() : base
        value = new Date(from + faker.number.int({min: 60_000, max: 72 * 3_600_000})).toISOString()
        break
      }
      case 'other': {
        const choices = (d.node.enum ?? []).filter((v) => v !== ref)
        value = choices.length > 0 ? faker.helpers.arrayElement(choices) : ref
        break
      }
    }
    setPath(data, d.path, value)
  }
}
