import {readFile} from 'node:fs/promises'
import {relative} from 'node:path'
import {UsageError} from '../errors.js'
import {type Definitions, emptyDefinitions, fixtureTopologyFiles, stripBom} from './definitions.js'
import {isBuiltinExchange, normalizeTags, objectKey, objectLabel, SECTIONS, type Section, stableJson} from './model.js'
import {definitionsSchema} from './schema.js'

export {
  normalizeTags,
  type ObjectKind,
  objectKey,
  objectLabel,
  SECTIONS,
  type Section,
  stableJson,
} from './model.js'

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

/**
 * Merge validated documents: identical duplicates collapse, conflicting duplicates are an error,
 * and cross-references (bindings, permissions, vhosts) must resolve within the merged set.
 */
export interface LoadOptions {
  /** The broker's current definitions: references may resolve there too. */
  broker?: Partial<Definitions>
  /** false: do not check references at all (linting a partial file for another broker). */
  references?: boolean
}

export function mergeAndCheck(
  docs: {file: string; data: Definitions}[],
  broker: Partial<Definitions> | null = {},
): {defs: Definitions; problems: string[]} {
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
        if (section === 'users' && Array.isArray(o.limits)) delete o.limits // an empty export list: no limits
        origins.set(key, {file, index})
        originOf.set(o, {file, index})
        ;(defs[section] as unknown as Record<string, unknown>[]).push(o)
      })
    }
  }

  if (broker)
    problems.push(
      ...referenceProblems(defs, broker, (o, section) => {
        const origin = originOf.get(o)
        return origin ? `${displayFile(origin.file)}: $.${section}[${origin.index}]` : `$.${section}`
      }),
    )
  return {defs, problems}
}

/**
 * References that must resolve in the file(s) or on the broker (`broker`: its current definitions):
 * the vhost of every object, the user of every permission, the exchanges and queues of every binding.
 * RabbitMQ refuses a missing vhost or user too; it silently drops a binding whose ends are missing,
 * which evt refuses instead (a binding that is never created is a silent loss).
 */
export function referenceProblems(
  defs: Definitions,
  broker: Partial<Definitions> = {},
  where: (o: object, section: string) => string = (_o, section) => `$.${section}`,
): string[] {
  const problems: string[] = []
  const names = <T>(list: T[] | undefined, f: (o: T) => string) => (list ?? []).map(f)
  const vhosts = new Set([...names(defs.vhosts, (v) => v.name), ...names(broker.vhosts, (v) => v.name)])
  const users = new Set([...names(defs.users, (u) => u.name), ...names(broker.users, (u) => u.name)])
  const inVhost = (o: {vhost: string; name: string}) => `${o.vhost}/${o.name}`
  const exchanges = new Set([...names(defs.exchanges, inVhost), ...names(broker.exchanges, inVhost)])
  const queues = new Set([...names(defs.queues, inVhost), ...names(broker.queues, inVhost)])
  for (const [section] of SECTIONS) {
    if (section === 'vhosts' || section === 'users' || section === 'global_parameters') continue
    for (const o of defs[section] as unknown as {vhost: string}[]) {
      if (!vhosts.has(o.vhost)) {
        problems.push(`${where(o, section)}.vhost: unknown vhost "${o.vhost}" (not in vhosts, not on the broker)`)
      }
    }
  }
  for (const section of ['permissions', 'topic_permissions'] as const) {
    for (const p of defs[section]) {
      if (!users.has(p.user)) {
        problems.push(`${where(p, section)}.user: unknown user "${p.user}" (not in users, not on the broker)`)
      }
    }
  }
  for (const b of defs.bindings) {
    if (b.source === '') continue // skipped, as RabbitMQ does
    if (!isBuiltinExchange(b.source) && !exchanges.has(`${b.vhost}/${b.source}`)) {
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
  return problems
}

function comparable(section: Section, o: Record<string, unknown>): string {
  if (section === 'users') return stableJson({...o, tags: normalizeTags(o.tags)})
  return stableJson(o)
}

/** Read, validate and merge definitions files; throws a UsageError (exit 2) naming file, JSON path and reason. */
export async function loadDefinitionsFiles(files: string[], options: LoadOptions = {}): Promise<Definitions> {
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
      data = JSON.parse(stripBom(text))
    } catch (err) {
      problems.push(`${displayFile(file)}: $: invalid JSON (${(err as Error).message})`)
      continue
    }
    const schemaProblems = await validateDocument(data, file)
    if (schemaProblems.length > 0) problems.push(...schemaProblems)
    else docs.push({file, data: data as Definitions})
  }
  if (problems.length > 0) throw inputError(problems)
  const merged = mergeAndCheck(docs, options.references === false ? null : (options.broker ?? {}))
  if (merged.problems.length > 0) throw inputError(merged.problems)
  return merged.defs
}

/**
 * The validated, merged topology: the given definitions files, or evt's fixture (one vhost per seed
 * system: customers, ecommerce, tutorgo, courses).
 */
export async function loadTopology(files?: string[], options: LoadOptions = {}): Promise<Definitions> {
  return loadDefinitionsFiles(files && files.length > 0 ? files : await fixtureTopologyFiles(), options)
}
