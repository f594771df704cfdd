import type {Definitions, DefinitionsBinding} from '../definitions.js'
import type {PlanItem} from '../model.js'

/**
 * The plan of `evt provision --dry-run` as marks on the topology tree: what the run would add, change in place,
 * delete and recreate (--force) or refuse, and what the broker has that the files do not name (provision never
 * deletes those, so they are shown as kept, except the bindings of a queue or exchange that --force recreates: they go
 * with it). Pure: built from the plan and the broker's current definitions.
 */
export type DiffMark = 'add' | 'change' | 'recreate' | 'conflict' | 'remove' | 'kept'

export interface DiffEntry {
  mark: DiffMark
  reason?: string
}

export interface PlanPreview {
  /** The broker's definitions with the files' objects laid over them: what the tree draws. */
  definitions: Definitions
  /** Keyed by diffKey(). Objects without an entry are unchanged. */
  marks: Map<string, DiffEntry>
  /** The vhosts the plan touches (the tree shows only these). */
  vhosts: string[]
}

export function diffKey(
  kind: 'vhost' | 'exchange' | 'queue' | 'binding',
  vhost: string,
  name: string,
  binding?: Pick<DefinitionsBinding, 'destination_type' | 'destination' | 'routing_key'>,
): string {
  return binding
    ? `binding|${vhost}|${name}|${binding.destination_type}|${binding.destination}|${binding.routing_key}`
    : `${kind}|${vhost}|${name}`
}

const SECTION_KIND = {vhosts: 'vhost', exchanges: 'exchange', queues: 'queue', bindings: 'binding'} as const

function keyOfDesired(item: PlanItem): string | undefined {
  const kind = SECTION_KIND[item.section as keyof typeof SECTION_KIND]
  if (!kind) return undefined
  const o = item.desired
  if (kind === 'vhost') return diffKey('vhost', String(o.name), '')
  if (kind === 'binding') {
    return diffKey('binding', String(o.vhost), String(o.source), {
      destination_type: o.destination_type as 'queue' | 'exchange',
      destination: String(o.destination),
      routing_key: String(o.routing_key ?? ''),
    })
  }
  return diffKey(kind, String(o.vhost), String(o.name))
}

export function planPreview(plan: PlanItem[], current: Definitions, options: {force?: boolean} = {}): PlanPreview {
  const marks = new Map<string, DiffEntry>()
  const vhosts = new Set<string>()
  const merged: Definitions = {
    ...current,
    vhosts: [...current.vhosts],
    exchanges: [...current.exchanges],
    queues: [...current.queues],
    bindings: [...current.bindings],
  }
  const desiredKeys = new Set<string>()
  for (const item of plan) {
    const key = keyOfDesired(item)
    if (!key) continue
    desiredKeys.add(key)
    const vhost = item.section === 'vhosts' ? String(item.desired.name) : item.vhost
    if (vhost !== undefined) vhosts.add(vhost)
    const mark: DiffMark | undefined =
      item.action === 'create'
        ? 'add'
        : item.action === 'update'
          ? 'change'
          : item.action === 'conflict'
            ? options.force
              ? 'recreate'
              : 'conflict'
            : undefined
    if (mark) marks.set(key, {mark, ...(item.reason ? {reason: item.reason} : {})})
    if (item.action !== 'create' && item.action !== 'update' && item.action !== 'conflict') continue
    // Draw what the files ask for: their object replaces the broker's.
    if (item.section === 'vhosts') {
      if (!merged.vhosts.some((v) => v.name === item.desired.name)) {
        merged.vhosts.push(item.desired as unknown as Definitions['vhosts'][number])
      }
    } else if (item.section === 'exchanges' || item.section === 'queues') {
      const list = merged[item.section] as unknown as Record<string, unknown>[]
      const at = list.findIndex((x) => x.vhost === item.desired.vhost && x.name === item.desired.name)
      if (at >= 0) list.splice(at, 1, item.desired)
      else list.push(item.desired)
    } else if (item.section === 'bindings' && item.action === 'create') {
      merged.bindings.push(item.desired as unknown as DefinitionsBinding)
    }
  }
  // What the broker has in those vhosts that the files do not name: provision leaves it as it is.
  for (const e of current.exchanges) {
    const key = diffKey('exchange', e.vhost, e.name)
    if (vhosts.has(e.vhost) && !desiredKeys.has(key) && !e.name.startsWith('amq.') && e.name !== '') {
      marks.set(key, {mark: 'kept'})
    }
  }
  for (const q of current.queues) {
    const key = diffKey('queue', q.vhost, q.name)
    if (vhosts.has(q.vhost) && !desiredKeys.has(key)) marks.set(key, {mark: 'kept'})
  }
  const recreated = new Set(
    [...marks.entries()].filter(([, e]) => e.mark === 'recreate').map(([key]) => key.split('|').slice(1).join('|')),
  )
  const goesWith = (vhost: string, name: string) => recreated.has(`${vhost}|${name}`)
  for (const b of current.bindings) {
    const key = diffKey('binding', b.vhost, b.source, b)
    if (!vhosts.has(b.vhost) || desiredKeys.has(key)) continue
    if (goesWith(b.vhost, b.source) || goesWith(b.vhost, b.destination)) {
      marks.set(key, {mark: 'remove', reason: 'deleted with the object --force recreates, not in the files'})
    } else marks.set(key, {mark: 'kept'})
  }
  return {definitions: merged, marks, vhosts: [...vhosts].sort()}
}

export interface DiffCounts {
  add: number
  change: number
  recreate: number
  conflict: number
  remove: number
  kept: number
}

export function countMarks(marks: Map<string, DiffEntry>): DiffCounts {
  const counts: DiffCounts = {add: 0, change: 0, recreate: 0, conflict: 0, remove: 0, kept: 0}
  for (const {mark} of marks.values()) counts[mark]++
  return counts
}
