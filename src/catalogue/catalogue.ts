import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {UsageError} from '../errors.js'
import {builtinEventsDir} from '../project/paths.js'
import {loadProject} from '../project/project.js'
import {topicMatches} from '../topology/routing.js'
import {closest} from '../util/did-you-mean.js'
import {parseYamlCached} from './parsed-cache.js'
import {parseDerivation} from './recipe.js'
import type {EventType, SchemaNode} from './types.js'

/** fixtures/events/ of the installed package (the seed systems). */
export function eventsDir(): string {
  return builtinEventsDir()
}

export interface Catalogue {
  /** Every type, sorted by system then name. */
  list(): EventType[]
  /**
   * A name (`order.created`), a qualified name (`ecommerce/order.created`), or a topic pattern over names
   * (`order.*`, `product.#`, `ecommerce/#`; a bare `*` means every type). Throws UsageError (exit 2) for an
   * unknown name (with suggestions) or an ambiguous short name (with the candidates).
   */
  resolve(nameOrPattern: string): EventType[]
  /** Like resolve, for several arguments; duplicates removed, order kept. */
  resolveAll(namesOrPatterns: string[]): EventType[]
}

const REQUIRED = ['name', 'system', 'vhost', 'exchange', 'routingKey', 'description', 'schema'] as const

/** What a project file gives every event type that does not say it itself. */
export interface EventTypeDefaults {
  /** The producing service (evt.yaml `publish.source`). */
  source?: string
}

/**
 * Read every event type file of the project's catalogue folders (evt.yaml `events` and the included seed
 * systems; without a project file, fixtures/events/), or of the given folders. Synchronous: small files.
 */
export function loadCatalogue(dirs?: string | string[], defaults: EventTypeDefaults = {}): Catalogue {
  if (dirs === undefined) {
    const project = loadProject()
    return loadCatalogue(project.eventDirs, {source: project.publish.source, ...defaults})
  }
  const list = typeof dirs === 'string' ? [dirs] : dirs
  return createCatalogue(list.flatMap((dir) => readEventTypes(dir, defaults)))
}

export function readEventTypes(dir: string, defaults: EventTypeDefaults = {}): EventType[] {
  const files: string[] = []
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.(ya?ml|json)$/.test(entry)) files.push(p)
    }
  }
  walk(dir)
  return files.map((file) => parseEventType(file, readFileSync(file, 'utf8'), relative(dir, file), defaults))
}

export function parseEventType(file: string, text: string, shown = file, defaults: EventTypeDefaults = {}): EventType {
  let raw: Record<string, unknown>
  try {
    raw = (file.endsWith('.json') ? JSON.parse(text) : parseYamlCached(text)) as Record<string, unknown>
  } catch (err) {
    throw new UsageError(`event fixture ${shown} is not valid YAML/JSON: ${(err as Error).message}`)
  }
  for (const key of REQUIRED) {
    if (raw?.[key] === undefined) throw new UsageError(`event fixture ${shown} has no "${key}"`, 'See docs/publish.md')
  }
  const source = raw.source ?? defaults.source
  if (source === undefined)
    throw new UsageError(`event fixture ${shown} has no "source"`, 'Add one, or set publish.source in evt.yaml')
  const schema = raw.schema as SchemaNode
  const examples: unknown = raw.examples ?? []
  if (!isObjectList(examples))
    throw new UsageError(`event fixture ${shown}: "examples" must be a list of data objects`, 'See docs/workspace.md')
  checkRecipe(schema, shown)
  const name = String(raw.name)
  const system = String(raw.system)
  return {
    name,
    qualifiedName: `${system}/${name}`,
    system,
    vhost: String(raw.vhost),
    exchange: String(raw.exchange),
    routingKey: String(raw.routingKey),
    description: String(raw.description).trim(),
    source: String(source),
    version: String(raw.version ?? '1.0'),
    schema,
    ...(examples.length > 0 ? {examples} : {}),
    file,
  }
}

function isObjectList(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.every((e: unknown) => e !== null && typeof e === 'object' && !Array.isArray(e))
}

function checkRecipe(node: SchemaNode, shown: string): void {
  if (node['x-derive']) {
    try {
      parseDerivation(node['x-derive'])
    } catch (err) {
      throw new UsageError(`event fixture ${shown}: ${(err as Error).message}`)
    }
  }
  for (const child of Object.values(node.properties ?? {})) checkRecipe(child, shown)
  if (node.items) checkRecipe(node.items, shown)
}

export function createCatalogue(types: EventType[]): Catalogue {
  const sorted = [...types].sort((a, b) => a.qualifiedName.localeCompare(b.qualifiedName))
  const seen = new Set<string>()
  for (const t of sorted) {
    if (seen.has(t.qualifiedName)) throw new UsageError(`two event fixtures define ${t.qualifiedName}`)
    seen.add(t.qualifiedName)
  }
  const resolve = (input: string): EventType[] => resolveName(sorted, input)
  return {
    list: () => [...sorted],
    resolve,
    resolveAll(inputs) {
      const out = new Map<string, EventType>()
      for (const input of inputs) for (const t of resolve(input)) out.set(t.qualifiedName, t)
      return [...out.values()]
    },
  }
}

function resolveName(types: EventType[], input: string): EventType[] {
  const text = input.trim()
  if (text === '*' || text === '#') return [...types]
  const slash = text.indexOf('/')
  const system = slash >= 0 ? text.slice(0, slash) : undefined
  const name = slash >= 0 ? text.slice(slash + 1) : text
  const pool = system === undefined ? types : types.filter((t) => t.system === system)
  if (system !== undefined && pool.length === 0) {
    const systems = [...new Set(types.map((t) => t.system))]
    throw new UsageError(`unknown system "${system}"`, `Systems: ${systems.join(', ')}`)
  }
  const isPattern = /(^|\.)[*#](\.|$)/.test(name)
  const found = isPattern
    ? pool.filter((t) => name === '*' || topicMatches(name, t.name))
    : pool.filter((t) => t.name === name)
  if (found.length === 0) {
    const suggestions = suggest(types, text)
    throw new UsageError(
      `unknown event type "${input}"`,
      suggestions.length > 0
        ? `Did you mean: ${suggestions.join(', ')}? (\`evt events\` lists them all)`
        : 'Run `evt events` to list the catalogue',
      {suggestions},
    )
  }
  if (!isPattern && found.length > 1) {
    const candidates = found.map((t) => t.qualifiedName)
    throw new UsageError(
      `event type "${input}" is ambiguous: ${found.length} systems define it`,
      `Use a qualified name: ${candidates.join(' or ')}`,
      {candidates},
    )
  }
  return found
}

/** Up to 3 names close to the input (edit distance, or a shared prefix/substring). */
export function suggest(types: EventType[], input: string): string[] {
  const names = [...new Set(types.map((t) => (input.includes('/') ? t.qualifiedName : t.name)))]
  return closest(input, names, (n) => n, 3)
}
