import {UsageError} from '../errors.js'
import {enc, type ManagementClient} from '../management/client.js'
import {closest} from '../util/did-you-mean.js'

/**
 * Which exchanges and queues `evt tail TARGET...` means. The live broker (management API) is the
 * source of truth; the fixture topology only adds names for suggestions and for the hint that a
 * fixture object has not been provisioned yet.
 */

export type TargetKind = 'exchange' | 'queue'

/** The name `evt tail` gives the default exchange (""). */
export const DEFAULT_EXCHANGE = 'amq.default'

export interface TopologyEntity {
  kind: TargetKind
  vhost: string
  name: string
  /** Exchange type (topic, direct, fanout, headers, ...). */
  type?: string
  /** Present on the broker now (false: only in the fixture). */
  live: boolean
}

export interface TargetRequest {
  name: string
  /** Forced by --exchange / --queue. */
  kind?: TargetKind
}

export type ResolvedTarget = TopologyEntity

export function describeEntity(e: TopologyEntity): string {
  return `${e.kind} ${e.vhost}/${e.name}`
}

/** Resolve each request to exactly one live exchange or queue, or fail with exit 2 saying why. */
export function resolveTargets(
  requests: TargetRequest[],
  entities: TopologyEntity[],
  vhost?: string,
): ResolvedTarget[] {
  const out: ResolvedTarget[] = []
  const seen = new Set<string>()
  for (const req of requests) {
    const target = resolveOne(req, entities, vhost)
    const key = `${target.kind}\u0000${target.vhost}\u0000${target.name}`
    if (!seen.has(key)) {
      seen.add(key)
      out.push(target)
    }
  }
  return out
}

function resolveOne(req: TargetRequest, entities: TopologyEntity[], vhost?: string): ResolvedTarget {
  const pool = entities.filter((e) => (vhost === undefined || e.vhost === vhost) && (!req.kind || e.kind === req.kind))
  let matches = pool.filter((e) => e.name === req.name)
  // "vhost/name" names the vhost inline.
  if (matches.length === 0 && req.name.includes('/')) {
    const slash = req.name.indexOf('/')
    const v = req.name.slice(0, slash)
    const n = req.name.slice(slash + 1)
    matches = pool.filter((e) => e.vhost === v && e.name === n)
  }
  matches = dedupe(matches)
  // What is on the broker wins: a fixture-only twin elsewhere is not a second candidate.
  const live = matches.filter((e) => e.live)
  if (live.length > 0) matches = live
  const what = req.kind ?? 'exchange or queue'
  const where = vhost === undefined ? '' : ` in vhost ${vhost}`
  if (matches.length === 0) {
    const suggestions = suggest(req.name, pool)
    throw new UsageError(
      `no ${what} named "${req.name}"${where}`,
      suggestions.length > 0
        ? `Did you mean: ${suggestions.map(describeEntity).join(', ')}?`
        : 'List them with `evt status`; provision the topology with `evt provision`',
      {target: req.name, suggestions: suggestions.map(({kind, vhost: v, name}) => ({kind, vhost: v, name}))},
    )
  }
  if (matches.length > 1) {
    throw new UsageError(
      `"${req.name}" is ambiguous${where}: ${matches.map(describeEntity).join(', ')}`,
      `Choose with --vhost VHOST, --exchange NAME or --queue NAME (or write VHOST/NAME), e.g. ${hintFor(matches[0])}`,
      {target: req.name, candidates: matches.map(({kind, vhost: v, name}) => ({kind, vhost: v, name}))},
    )
  }
  const [only] = matches
  if (!only.live) {
    throw new UsageError(
      `${describeEntity(only)} is in the topology but not on the broker`,
      'Create it with `evt provision` first',
    )
  }
  return only
}

function hintFor(e: TopologyEntity): string {
  return `evt tail --vhost ${e.vhost} --${e.kind} ${e.name}`
}

/** Live beats fixture for the same object. */
function dedupe(list: TopologyEntity[]): TopologyEntity[] {
  const byKey = new Map<string, TopologyEntity>()
  for (const e of list) {
    const key = `${e.kind}\u0000${e.vhost}\u0000${e.name}`
    const prev = byKey.get(key)
    if (!prev || (!prev.live && e.live)) byKey.set(key, e)
  }
  return [...byKey.values()]
}

/** Up to five names close to `name`: same name elsewhere, a shared substring, or a small edit distance. */
export function suggest(name: string, pool: TopologyEntity[]): TopologyEntity[] {
  return closest(name, dedupe(pool), (e) => e.name, 5)
}

interface LiveExchange {
  name: string
  vhost: string
  type: string
}
interface LiveQueue {
  name: string
  vhost: string
}

/** Exchanges (not the default one) and queues on the broker, in one vhost or all. */
export async function liveEntities(api: ManagementClient, vhost?: string): Promise<TopologyEntity[]> {
  const suffix = vhost === undefined ? '' : `/${enc(vhost)}`
  const [exchanges, queues] = await Promise.all([
    api.get<LiveExchange[]>(`/exchanges${suffix}?columns=name,vhost,type`),
    api.get<LiveQueue[]>(`/queues${suffix}?columns=name,vhost`),
  ])
  return [
    // The default exchange has no name: it is tailed as "amq.default" (through the firehose).
    ...exchanges.map(
      (e): TopologyEntity => ({
        kind: 'exchange',
        vhost: e.vhost,
        name: e.name === '' ? DEFAULT_EXCHANGE : e.name,
        type: e.type,
        live: true,
      }),
    ),
    ...queues.map((q): TopologyEntity => ({kind: 'queue', vhost: q.vhost, name: q.name, live: true})),
  ]
}

/** Exchanges and queues of the fixture topology (empty when there is none or it does not load). */
export async function fixtureEntities(files?: string[]): Promise<TopologyEntity[]> {
  try {
    const topology = (await import('../topology/index.js')) as Record<string, unknown>
    const load = (
      typeof topology.loadTopology === 'function' ? topology.loadTopology : topology.readDefinitionsFiles
    ) as (files?: string[]) => Promise<{
      exchanges?: {name: string; vhost: string; type: string}[]
      queues?: {name: string; vhost: string}[]
    }>
    const defs = await load(files)
    return [
      ...(defs.exchanges ?? []).map(
        (e): TopologyEntity => ({kind: 'exchange', vhost: e.vhost, name: e.name, type: e.type, live: false}),
      ),
      ...(defs.queues ?? []).map((q): TopologyEntity => ({kind: 'queue', vhost: q.vhost, name: q.name, live: false})),
    ]
  } catch {
    return []
  }
}
