import {readFile} from 'node:fs/promises'
import {relative} from 'node:path'
import {UsageError} from '../errors.js'
import {type Definitions, emptyDefinitions, fixtureTopologyFiles} from './definitions.js'
import {definitionsSchema} from './schema.js'

export type ObjectKind =
  | 'vhost'
  | 'user'
  | 'permission'
  | 'topic_permission'
  | 'policy'
  | 'exchange'
  | 'queue'
  | 'binding'

/** The definitions arrays in apply order (vhosts first, bindings last). */
export const SECTIONS = [
  ['vhosts', 'vhost'],
  ['users', 'user'],
  ['permissions', 'permission'],
  ['topic_permissions', 'topic_permission'],
  ['policies', 'policy'],
  ['exchanges', 'exchange'],
  ['queues', 'queue'],
  ['bindings', 'binding'],
] as const satisfies readonly (readonly [keyof Definitions, ObjectKind])[]

export type Section = (typeof SECTIONS)[number][0]

/** Canonical JSON (sorted keys) for equality of arguments and definitions. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** The identity of an object within its section: two objects with the same key are the same broker object. */
export function objectKey(section: Section, o: Record<string, unknown>): string {
  switch (section) {
    case 'vhosts':
    case 'users':
      return String(o.name)
    case 'permissions':
      return `${o.vhost}/${o.user}`
    case 'topic_permissions':
      return `${o.vhost}/${o.user}/${o.exchange}`
    case 'policies':
    case 'exchanges':
    case 'queues':
      return `${o.vhost}/${o.name}`
    case 'bindings':
      return `${o.vhost}/${o.source}→${o.destination_type}:${o.destination}[${o.routing_key}]${stableJson(o.arguments ?? {})}`
  }
}

/** A human label such as `exchange ecommerce/orders`. */
export function objectLabel(section: Section, o: Record<string, unknown>): string {
  const kind = SECTIONS.find(([s]) => s === section)?.[1] ?? section
  if (section === 'bindings') {
    const src = o.source === '' ? '(default)' : o.source
    return `binding ${o.vhost}/${src} → ${o.destination_type} ${o.destination} [${o.routing_key}]`
  }
  return `${kind} ${objectKey(section, o)}`
}

export function normalizeTags(tags: string | string[] | undefined): string[] {
  const list = Array.isArray(tags) ? tags : (tags ?? '').split(',')
  return list
    .map((t) => t.trim())
    .filter(Boolean)
    .sort()
}

interface Origin {
  file: string
  index: number
}

function jsonPath(instancePath: string): string {
  if (!instancePath) return '$'
  return `$${instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')}`
}

function displayFile(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel && !rel.startsWith('..') ? rel : file
}

function inputError(problems: string[]): UsageError {
  const shown = problems.slice(0, 10)
  const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : ''
  return new UsageError(`invalid definitions: ${shown.join('; ')}${more}`, 'Fix the file(s); nothing was applied', {
    problems,
  })
}

let validatorPromise: Promise<(data: unknown) => {ok: boolean; errors: {path: string; reason: string}[]}> | undefined

async function validator() {
  validatorPromise ??= (async () => {
    const {Ajv} = await import('ajv')
    const ajv = new Ajv({allErrors: true, useDefaults: true, strict: false})
    const validate = ajv.compile(definitionsSchema)
    return (data: unknown) => {
      if (validate(data)) return {ok: true, errors: []}
      const errors = (validate.errors ?? []).map((e) => {
        if (e.keyword === 'additionalProperties') {
          const key = String((e.params as {additionalProperty: string}).additionalProperty)
          const hint =
            key === 'password'
              ? ' (plain-text passwords are not allowed: use password_hash or EVT_PASSWORD_<USER>)'
              : ''
          return {path: jsonPath(e.instancePath), reason: `unknown key "${key}"${hint}`}
        }
        if (e.keyword === 'enum') {
          const allowed = (e.params as {allowedValues: unknown[]}).allowedValues
            .map((v) => JSON.stringify(v))
            .join(', ')
          return {path: jsonPath(e.instancePath), reason: `must be one of ${allowed}`}
        }
        return {path: jsonPath(e.instancePath), reason: e.message ?? e.keyword}
      })
      return {ok: false, errors}
    }
  })()
  return validatorPromise
}

/** Validate one parsed document (schema only); returns problems as "file: path: reason". */
export async function validateDocument(data: unknown, file: string): Promise<string[]> {
  const validate = await validator()
  const result = validate(data)
  // anyOf failures repeat per branch: keep one line per path and reason.
  return [...new Set(result.errors.map((e) => `${displayFile(file)}: ${e.path}: ${e.reason}`))]
}

/** The built-in exchanges every vhost has. */
function isBuiltinExchange(name: string): boolean {
  return name === '' || name.startsWith('amq.')
}

/**
 * Merge validated documents: identical duplicates collapse, conflicting duplicates are an error,
 * and cross-references (bindings, permissions, vhosts) must resolve within the merged set.
 */
export function mergeAndCheck(docs: {file: string; data: Definitions}[]): {defs: Definitions; problems: string[]} {
  const defs = emptyDefinitions()
  const problems: string[] = []
  const origins = new Map<string, Origin>()
  const originOf = new Map<object, Origin>()
  for (const {file, data} of docs) {
    if (data.rabbitmq_version ?? data.rabbit_version)
      defs.rabbitmq_version ??= data.rabbitmq_version ?? data.rabbit_version
    for (const [section] of SECTIONS) {
      const list = (data[section] ?? []) as unknown as Record<string, unknown>[]
      list.forEach((o, index) => {
        const key = `${section}|${objectKey(section, o)}`
        const seen = origins.get(key)
        if (seen) {
          const existing = (defs[section] as unknown as Record<string, unknown>[]).find(
            (e) => `${section}|${objectKey(section, e)}` === key,
          )
          if (existing && comparable(section, existing) !== comparable(section, o)) {
            problems.push(
              `${displayFile(file)}: $.${section}[${index}]: ${objectLabel(section, o)} conflicts with ${displayFile(seen.file)} $.${section}[${seen.index}] (same object, different settings)`,
            )
          }
          return
        }
        origins.set(key, {file, index})
        originOf.set(o, {file, index})
        ;(defs[section] as unknown as Record<string, unknown>[]).push(o)
      })
    }
    for (const extra of ['parameters', 'global_parameters'] as const) {
      const list = data[extra]
      if (Array.isArray(list) && list.length > 0) defs[extra] = [...(defs[extra] ?? []), ...list]
    }
  }

  const where = (o: object, section: string) => {
    const origin = originOf.get(o)
    return origin ? `${displayFile(origin.file)}: $.${section}[${origin.index}]` : `$.${section}`
  }
  const vhosts = new Set(['/', ...defs.vhosts.map((v) => v.name)])
  const users = new Set(defs.users.map((u) => u.name))
  const exchanges = new Set(defs.exchanges.map((e) => `${e.vhost}/${e.name}`))
  const queues = new Set(defs.queues.map((q) => `${q.vhost}/${q.name}`))
  for (const [section] of SECTIONS) {
    if (section === 'vhosts' || section === 'users') continue
    for (const o of defs[section] as unknown as {vhost: string}[]) {
      if (!vhosts.has(o.vhost)) problems.push(`${where(o, section)}.vhost: unknown vhost "${o.vhost}" (not in vhosts)`)
    }
  }
  for (const section of ['permissions', 'topic_permissions'] as const) {
    for (const p of defs[section]) {
      if (!users.has(p.user)) problems.push(`${where(p, section)}.user: unknown user "${p.user}" (not in users)`)
    }
  }
  for (const b of defs.bindings) {
    if (b.source === '') problems.push(`${where(b, 'bindings')}.source: the default exchange cannot be bound`)
    else if (!isBuiltinExchange(b.source) && !exchanges.has(`${b.vhost}/${b.source}`)) {
      problems.push(`${where(b, 'bindings')}.source: binding from missing exchange "${b.source}" in vhost ${b.vhost}`)
    }
    const target = `${b.vhost}/${b.destination}`
    if (b.destination_type === 'queue' && !queues.has(target)) {
      problems.push(
        `${where(b, 'bindings')}.destination: binding to missing queue "${b.destination}" in vhost ${b.vhost}`,
      )
    }
    if (b.destination_type === 'exchange' && !isBuiltinExchange(b.destination) && !exchanges.has(target)) {
      problems.push(
        `${where(b, 'bindings')}.destination: binding to missing exchange "${b.destination}" in vhost ${b.vhost}`,
      )
    }
  }
  return {defs, problems}
}

function comparable(section: Section, o: Record<string, unknown>): string {
  if (section === 'users') return stableJson({...o, tags: normalizeTags(o.tags as string | string[])})
  return stableJson(o)
}

/** Read, validate and merge definitions files; throws a UsageError (exit 2) naming file, JSON path and reason. */
export async function loadDefinitionsFiles(files: string[]): Promise<Definitions> {
  if (files.length === 0) throw new UsageError('no definitions files given')
  const problems: string[] = []
  const docs: {file: string; data: Definitions}[] = []
  for (const file of files) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      problems.push(`${displayFile(file)}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`)
      continue
    }
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch (err) {
      problems.push(`${displayFile(file)}: $: invalid JSON (${(err as Error).message})`)
      continue
    }
    const schemaProblems = await validateDocument(data, file)
    if (schemaProblems.length > 0) problems.push(...schemaProblems)
    else docs.push({file, data: data as Definitions})
  }
  if (problems.length > 0) throw inputError(problems)
  const merged = mergeAndCheck(docs)
  if (merged.problems.length > 0) throw inputError(merged.problems)
  return merged.defs
}

/**
 * The validated, merged topology: the given definitions files, or evt's fixture (one vhost per seed
 * system: customers, ecommerce, tutorgo, courses).
 */
export async function loadTopology(files?: string[]): Promise<Definitions> {
  return loadDefinitionsFiles(files && files.length > 0 ? files : await fixtureTopologyFiles())
}
