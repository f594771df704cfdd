import type {Definitions} from './definitions.js'

/**
 * The topology model: object kinds, their identity, and the typed plan and result items. Pure (no I/O):
 * load.ts validates files into Definitions, plan.ts compares them with the broker, apply.ts talks HTTP.
 */
export type ObjectKind =
  | 'user'
  | 'vhost'
  | 'permission'
  | 'topic_permission'
  | 'exchange'
  | 'global_parameter'
  | 'policy'
  | 'parameter'
  | 'queue'
  | 'binding'

/** The definitions arrays in RabbitMQ's own import order (rabbit_definitions:apply_defs). */
export const SECTIONS = [
  ['users', 'user'],
  ['vhosts', 'vhost'],
  ['permissions', 'permission'],
  ['topic_permissions', 'topic_permission'],
  ['exchanges', 'exchange'],
  ['global_parameters', 'global_parameter'],
  ['policies', 'policy'],
  ['parameters', 'parameter'],
  ['queues', 'queue'],
  ['bindings', 'binding'],
] as const satisfies readonly (readonly [keyof Definitions, ObjectKind])[]

export type Section = (typeof SECTIONS)[number][0]

export const KIND_ORDER: readonly ObjectKind[] = SECTIONS.map(([, kind]) => kind)

export function kindOf(section: Section): ObjectKind {
  return SECTIONS.find(([s]) => s === section)?.[1] ?? 'vhost'
}

export type Obj = Record<string, unknown>

/** Canonical JSON (sorted keys) for equality of arguments and definitions. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Obj)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function normalizeTags(tags: unknown): string[] {
  const list = Array.isArray(tags) ? tags.map(String) : typeof tags === 'string' ? tags.split(',') : []
  return list
    .map((t) => t.trim())
    .filter(Boolean)
    .sort()
}

/** The vhost an object lives in (undefined for users, vhosts and global parameters). */
export function vhostOf(section: Section, o: Obj): string | undefined {
  return section === 'users' || section === 'vhosts' || section === 'global_parameters' ? undefined : String(o.vhost)
}

/** The object's name within its vhost, as people read it. */
export function localName(section: Section, o: Obj): string {
  switch (section) {
    case 'permissions':
      return String(o.user)
    case 'topic_permissions':
      return `${o.user}/${o.exchange}`
    case 'parameters':
      return `${o.component}/${o.name}`
    case 'bindings': {
      const src = o.source === '' ? '(default)' : o.source
      return `${src} → ${o.destination_type} ${o.destination} [${o.routing_key ?? ''}]`
    }
    case 'exchanges':
      return o.name === '' ? '(default)' : String(o.name)
    default:
      return String(o.name)
  }
}

/** `vhost/name`, or `name` for objects outside a vhost. */
export function displayName(section: Section, o: Obj): string {
  const vhost = vhostOf(section, o)
  return vhost === undefined ? localName(section, o) : `${vhost}/${localName(section, o)}`
}

/** The identity of an object within its section: two objects with the same key are the same broker object. */
export function objectKey(section: Section, o: Obj): string {
  if (section === 'bindings') {
    return `${o.vhost}/${o.source}→${o.destination_type}:${o.destination}[${o.routing_key ?? ''}]${stableJson(o.arguments ?? {})}`
  }
  return displayName(section, o)
}

/** A human label such as `exchange ecommerce/orders`. */
export function objectLabel(section: Section, o: Obj): string {
  return `${kindOf(section)} ${displayName(section, o)}`
}

/** The default exchange and the amq.* ones: every vhost has them; RabbitMQ's import skips them. */
export function isBuiltinExchange(name: string): boolean {
  return name === '' || name.startsWith('amq.')
}

export type PlanAction = 'create' | 'update' | 'unchanged' | 'conflict' | 'skip'

/** One object of the desired definitions, compared with the broker. */
export interface PlanItem {
  section: Section
  kind: ObjectKind
  /** Name within the vhost (`orders`, `events → queue orders [order.#]`). */
  name: string
  vhost?: string
  /** Identity within the section. */
  key: string
  action: PlanAction
  /** Why an update, a conflict or a skip. */
  reason?: string
  /** What the file asks that RabbitMQ's import will not do here (printed as a warning). */
  note?: string
  /** For conflicts: what the broker has and what the file wants. */
  existing?: string
  wanted?: string
  desired: Obj
  current?: Obj
}

export function planLabel(item: Pick<PlanItem, 'kind' | 'name' | 'vhost'>): string {
  return `${item.kind} ${item.vhost === undefined ? item.name : `${item.vhost}/${item.name}`}`
}

export type ResultAction =
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'recreated'
  | 'skipped'
  | 'create'
  | 'update'
  | 'conflict'
  | 'recreate'
  | 'skip'

/** One object in a provision result (what the command prints and --json holds). */
export interface ObjectResult {
  kind: ObjectKind
  /** `vhost/name` for objects in a vhost. */
  name: string
  vhost?: string
  action: ResultAction
  reason?: string
  existing?: string
  wanted?: string
}

export function resultOf(item: PlanItem, action: ResultAction = item.action): ObjectResult {
  return {
    kind: item.kind,
    name: item.vhost === undefined ? item.name : `${item.vhost}/${item.name}`,
    ...(item.vhost === undefined ? {} : {vhost: item.vhost}),
    action,
    ...(item.reason ? {reason: item.reason} : {}),
    ...(item.existing ? {existing: item.existing, wanted: item.wanted} : {}),
  }
}

export interface PlanCounts {
  created: number
  updated: number
  unchanged: number
  skipped: number
  conflicts: number
}

export function countPlan(items: {action: string}[]): PlanCounts {
  const counts = {created: 0, updated: 0, unchanged: 0, skipped: 0, conflicts: 0}
  for (const i of items) {
    if (i.action === 'create' || i.action === 'created' || i.action === 'recreated') counts.created++
    else if (i.action === 'update' || i.action === 'updated') counts.updated++
    else if (i.action === 'unchanged') counts.unchanged++
    else if (i.action === 'skip' || i.action === 'skipped') counts.skipped++
    else if (i.action === 'conflict') counts.conflicts++
  }
  return counts
}
