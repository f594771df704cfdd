import type {Definitions} from './definitions.js'
import {normalizeTags, objectKey, objectLabel, SECTIONS, type Section, stableJson} from './load.js'

/**
 * Desired vs current definitions as a list of per-object actions. Pure: no broker, no I/O, so every
 * rule (what counts as a change, what RabbitMQ refuses to change in place) is unit-tested.
 */
export type PlanAction = 'create' | 'update' | 'unchanged' | 'conflict'

export interface PlanItem {
  section: Section
  /** Identity within the section, e.g. "ecommerce/orders". */
  key: string
  /** Human label, e.g. "exchange ecommerce/orders". */
  label: string
  action: PlanAction
  /** Why an update or a conflict: which settings differ. */
  reason?: string
  /** For conflicts: what the broker has and what the file wants. */
  existing?: string
  wanted?: string
  desired: Record<string, unknown>
  current?: Record<string, unknown>
}

export interface PlanOptions {
  /** The user the management API acts as: its password is never changed (we would lock ourselves out). */
  actingUser?: string
}

type Obj = Record<string, unknown>

/** Arguments as RabbitMQ treats them: x-queue-type "classic" is the default, so absent = classic. */
export function normalizeArguments(section: Section, args: unknown, queueType?: unknown): Obj {
  const out = {...((args as Obj | undefined) ?? {})}
  // Some exports carry the queue type as a top-level "type" instead of x-queue-type.
  if (section === 'queues' && typeof queueType === 'string' && out['x-queue-type'] === undefined) {
    out['x-queue-type'] = queueType
  }
  if (section === 'queues' && out['x-queue-type'] === 'classic') delete out['x-queue-type']
  return out
}

function describeSettings(section: Section, o: Obj): string {
  if (section === 'exchanges') {
    return `type=${o.type} durable=${o.durable ?? true} auto_delete=${o.auto_delete ?? false} internal=${o.internal ?? false} arguments=${stableJson(normalizeArguments(section, o.arguments))}`
  }
  return `durable=${o.durable ?? true} auto_delete=${o.auto_delete ?? false} arguments=${stableJson(normalizeArguments(section, o.arguments))}`
}

function diffFields(desired: Obj, current: Obj, fields: string[]): string[] {
  return fields.filter((f) => stableJson(desired[f] ?? null) !== stableJson(current[f] ?? null))
}

function vhostDescription(v: Obj): string {
  return String(v.description ?? (v.metadata as Obj | undefined)?.description ?? '')
}

function compare(
  section: Section,
  desired: Obj,
  current: Obj,
  options: PlanOptions,
): Omit<PlanItem, 'key' | 'label' | 'section' | 'desired' | 'current'> {
  switch (section) {
    case 'vhosts': {
      if (desired.description === undefined || vhostDescription(desired) === vhostDescription(current)) {
        return {action: 'unchanged'}
      }
      return {action: 'update', reason: 'description'}
    }
    case 'users': {
      const changed: string[] = []
      if (stableJson(normalizeTags(desired.tags as string[])) !== stableJson(normalizeTags(current.tags as string[]))) {
        changed.push('tags')
      }
      const passwordKnown = typeof desired.password_hash === 'string'
      if (passwordKnown && desired.name !== options.actingUser && desired.password_hash !== current.password_hash) {
        changed.push('password_hash')
      }
      return changed.length ? {action: 'update', reason: changed.join(', ')} : {action: 'unchanged'}
    }
    case 'permissions': {
      const changed = diffFields(desired, current, ['configure', 'write', 'read'])
      return changed.length ? {action: 'update', reason: changed.join(', ')} : {action: 'unchanged'}
    }
    case 'topic_permissions': {
      const changed = diffFields(desired, current, ['write', 'read'])
      return changed.length ? {action: 'update', reason: changed.join(', ')} : {action: 'unchanged'}
    }
    case 'policies': {
      const d = {...desired, 'apply-to': desired['apply-to'] ?? 'all', priority: desired.priority ?? 0}
      const changed = diffFields(d, current, ['pattern', 'apply-to', 'definition', 'priority'])
      return changed.length ? {action: 'update', reason: changed.join(', ')} : {action: 'unchanged'}
    }
    case 'exchanges':
    case 'queues': {
      const d = {...desired, arguments: normalizeArguments(section, desired.arguments, desired.type)}
      const c = {...current, arguments: normalizeArguments(section, current.arguments, current.type)}
      const fields =
        section === 'exchanges'
          ? ['type', 'durable', 'auto_delete', 'internal', 'arguments']
          : ['durable', 'auto_delete', 'arguments']
      const changed = diffFields(d, c, fields)
      if (changed.length === 0) return {action: 'unchanged'}
      // RabbitMQ cannot change these in place (exchange type, queue arguments: PRECONDITION_FAILED).
      return {
        action: 'conflict',
        reason: changed.join(', '),
        existing: describeSettings(section, current),
        wanted: describeSettings(section, desired),
      }
    }
    case 'bindings':
      return {action: 'unchanged'}
  }
}

export function planDefinitions(
  desired: Definitions,
  current: Partial<Definitions>,
  options: PlanOptions = {},
): PlanItem[] {
  const items: PlanItem[] = []
  for (const [section] of SECTIONS) {
    const currentByKey = new Map<string, Obj>()
    for (const o of (current[section] ?? []) as unknown as Obj[]) currentByKey.set(objectKey(section, o), o)
    for (const o of desired[section] as unknown as Obj[]) {
      const key = objectKey(section, o)
      const existing = currentByKey.get(key)
      const base = {section, key, label: objectLabel(section, o), desired: o}
      if (!existing) items.push({...base, action: 'create'})
      else items.push({...base, current: existing, ...compare(section, o, existing, options)})
    }
  }
  return items
}

export interface PlanCounts {
  created: number
  updated: number
  unchanged: number
  conflicts: number
}

export function countPlan(items: {action: string}[]): PlanCounts {
  const counts = {created: 0, updated: 0, unchanged: 0, conflicts: 0}
  for (const i of items) {
    if (i.action === 'create' || i.action === 'created' || i.action === 'recreated') counts.created++
    else if (i.action === 'update' || i.action === 'updated') counts.updated++
    else if (i.action === 'unchanged') counts.unchanged++
    else if (i.action === 'conflict') counts.conflicts++
  }
  return counts
}
