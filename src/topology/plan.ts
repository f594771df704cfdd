import type {Definitions} from './definitions.js'
import {atLeast} from './lint.js'
import {
  isBuiltinExchange,
  kindOf,
  localName,
  normalizeTags,
  type Obj,
  objectKey,
  type PlanItem,
  SECTIONS,
  type Section,
  stableJson,
  vhostOf,
} from './model.js'

export {countPlan, type PlanAction, type PlanCounts, type PlanItem} from './model.js'

/**
 * Desired vs current definitions as a list of per-object actions. Pure: no broker, no I/O, so every
 * rule (what counts as a change, what RabbitMQ skips, what it refuses to change in place) is unit-tested.
 * The rules follow RabbitMQ's own import (rabbit_definitions.erl): what it would change is an update,
 * what it skips is a skip with the reason evt prints.
 */
export interface PlanOptions {
  /** The user the management API acts as: its password is never changed (we would lock ourselves out). */
  actingUser?: string
  /** The broker's version: RabbitMQ's import changes an existing vhost's default queue type only from 4.1. */
  brokerVersion?: string
}

/** Arguments as RabbitMQ treats them: x-queue-type "classic" is the default, so absent = classic. */
export function normalizeArguments(section: Section, args: unknown): Obj {
  const out = {...((args as Obj | undefined) ?? {})}
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

/** A vhost's metadata as RabbitMQ's import sets it: top-level description/tags win over metadata's. */
export function vhostMetadata(v: Obj): {description: string; tags: string[]; default_queue_type?: string} {
  const meta = (v.metadata as Obj | undefined) ?? {}
  const dqt = meta.default_queue_type
  return {
    description: String(v.description ?? meta.description ?? ''),
    tags: normalizeTags(v.tags ?? meta.tags),
    ...(typeof dqt === 'string' && dqt !== 'undefined' ? {default_queue_type: dqt} : {}),
  }
}

/** Why RabbitMQ's import skips this object (undefined: it applies it). */
export function skipReason(section: Section, o: Obj): string | undefined {
  if (section === 'exchanges' && isBuiltinExchange(String(o.name))) {
    return 'every vhost has the default and amq.* exchanges; RabbitMQ skips them on import'
  }
  if (section === 'queues' && String(o.name).startsWith('amq.')) {
    return 'amq.* queue names are reserved; RabbitMQ skips them on import'
  }
  if (section === 'bindings' && o.source === '') {
    return "the default exchange's bindings are implicit; RabbitMQ skips them on import"
  }
  if (section === 'global_parameters' && String(o.name).startsWith('internal')) {
    return "internal to the node it was exported from (evt never copies a cluster's identity)"
  }
  return undefined
}

type Verdict = Pick<PlanItem, 'action' | 'reason' | 'existing' | 'wanted' | 'note'>

function changed(fields: string[]): Verdict {
  return fields.length ? {action: 'update', reason: fields.join(', ')} : {action: 'unchanged'}
}

function compare(section: Section, desired: Obj, current: Obj, options: PlanOptions): Verdict {
  switch (section) {
    case 'vhosts': {
      const d = vhostMetadata(desired)
      const c = vhostMetadata(current)
      const fields = diffFields(d, c, ['description', 'tags'])
      if (d.default_queue_type !== undefined && d.default_queue_type !== c.default_queue_type) {
        if (!options.brokerVersion || atLeast(options.brokerVersion, '4.1')) fields.push('default_queue_type')
        else {
          const note = `vhost ${desired.name} keeps default_queue_type ${c.default_queue_type ?? '(none)'}: RabbitMQ ${options.brokerVersion}'s import does not change it on an existing vhost (the file wants ${d.default_queue_type})`
          return {...changed(fields), note}
        }
      }
      return changed(fields)
    }
    case 'users': {
      const fields: string[] = []
      if (stableJson(normalizeTags(desired.tags)) !== stableJson(normalizeTags(current.tags))) fields.push('tags')
      const limits = (l: unknown) => (l && typeof l === 'object' && !Array.isArray(l) ? l : {})
      if (desired.limits !== undefined && stableJson(limits(desired.limits)) !== stableJson(limits(current.limits))) {
        fields.push('limits')
      }
      const hashGiven = typeof desired.password_hash === 'string'
      if (hashGiven && desired.name !== options.actingUser && desired.password_hash !== current.password_hash) {
        fields.push('password_hash')
      }
      return changed(fields)
    }
    case 'permissions':
      return changed(diffFields(desired, current, ['configure', 'write', 'read']))
    case 'topic_permissions':
      return changed(diffFields(desired, current, ['write', 'read']))
    case 'policies': {
      const d = {...desired, 'apply-to': desired['apply-to'] ?? 'all', priority: desired.priority ?? 0}
      return changed(diffFields(d, current, ['pattern', 'apply-to', 'definition', 'priority']))
    }
    case 'parameters':
    case 'global_parameters':
      return changed(diffFields(desired, current, ['value']))
    case 'exchanges':
    case 'queues': {
      const d = {...desired, arguments: normalizeArguments(section, desired.arguments)}
      const c = {...current, arguments: normalizeArguments(section, current.arguments)}
      const fields =
        section === 'exchanges'
          ? ['type', 'durable', 'auto_delete', 'internal', 'arguments']
          : ['durable', 'auto_delete', 'arguments']
      const diff = diffFields(d, c, fields)
      if (diff.length === 0) return {action: 'unchanged'}
      // RabbitMQ cannot change these in place (exchange type, queue arguments: PRECONDITION_FAILED).
      return {
        action: 'conflict',
        reason: diff.join(', '),
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
    for (const o of (desired[section] ?? []) as unknown as Obj[]) {
      const key = objectKey(section, o)
      const vhost = vhostOf(section, o)
      const base = {
        section,
        kind: kindOf(section),
        name: localName(section, o),
        ...(vhost === undefined ? {} : {vhost}),
        key,
        desired: o,
      }
      const skip = skipReason(section, o)
      const existing = currentByKey.get(key)
      if (skip) items.push({...base, action: 'skip', reason: skip})
      else if (!existing) items.push({...base, action: 'create'})
      else items.push({...base, current: existing, ...compare(section, o, existing, options)})
    }
  }
  return items
}
