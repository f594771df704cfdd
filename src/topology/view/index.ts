import {UsageError} from '../../errors.js'
import {ManagementClient} from '../../management/client.js'
import {closest} from '../../util/did-you-mean.js'
import {type Definitions, emptyDefinitions} from '../definitions.js'
import {loadTopology} from '../load.js'
import {buildGraph, type QueueStats, type TopologyGraph} from './graph.js'
import {type EventRoute, eventRoutes, type RoutedType, type RouteFindings} from './routes.js'

export {type DiagramFormat, renderDiagram} from './diagram.js'
export {buildGraph, type TopologyGraph} from './graph.js'
export {type EventRoute, eventRoutes, findingCount, type RouteFindings} from './routes.js'
export {renderTree} from './tree.js'

export interface TopologyViewInput {
  /** A vhost, or a catalogue system whose vhost to show; undefined: every vhost. */
  target?: string
  /** Definitions files instead of the live broker (no broker needed). */
  files?: string[]
  /** The live broker's management API (when no files). */
  managementUrl?: string
  /** Also list where each catalogue type lands, and the findings. */
  events?: boolean
  /** Include amq.* exchanges and evt's own tap queues. */
  includeSystem?: boolean
}

export interface TopologyView {
  source: 'live' | 'files'
  vhosts: string[]
  graph: TopologyGraph
  definitions: Definitions
  routes?: EventRoute[]
  findings?: RouteFindings
}

/** GET /api/definitions (every section present) and each queue's live counts. */
async function liveTopology(managementUrl: string): Promise<{defs: Definitions; stats: Map<string, QueueStats>}> {
  const api = new ManagementClient(managementUrl)
  const [live, queues] = await Promise.all([api.get<Partial<Definitions>>('/definitions'), api.listQueues()])
  const defs: Definitions = {...emptyDefinitions(), ...live}
  const stats = new Map<string, QueueStats>(
    queues.map((q) => [
      `${q.vhost}/${q.name}`,
      {ready: q.messages_ready ?? 0, unacked: q.messages_unacknowledged ?? 0, consumers: q.consumers ?? 0},
    ]),
  )
  return {defs, stats}
}

/** The catalogue's types with a sample routing key each (templates such as {month} filled, seed 1). */
async function catalogueRoutes(): Promise<RoutedType[]> {
  const {loadCatalogue} = await import('../../catalogue/catalogue.js')
  const {generateEvent} = await import('../../catalogue/generate.js')
  const types = loadCatalogue().list()
  return Promise.all(
    types.map(async (t) => ({
      type: t.qualifiedName,
      vhost: t.vhost,
      exchange: t.exchange,
      routingKey: (await generateEvent(t, {seed: 1})).routingKey,
    })),
  )
}

/** Which vhosts `target` means: a vhost by name, or a catalogue system's vhost. */
async function resolveTarget(target: string | undefined, defs: Definitions): Promise<string[] | undefined> {
  if (target === undefined) return undefined
  const vhosts = [...new Set([...defs.vhosts.map((v) => v.name), ...defs.queues.map((q) => q.vhost)])]
  if (vhosts.includes(target)) return [target]
  const {loadCatalogue} = await import('../../catalogue/catalogue.js')
  const system = loadCatalogue()
    .list()
    .find((t) => t.system === target)
  if (system && vhosts.includes(system.vhost)) return [system.vhost]
  const near = closest(target, vhosts, (v) => v)
  throw new UsageError(
    `no vhost or system "${target}" in the topology`,
    near.length > 0 ? `Did you mean ${near.join(' or ')}?` : `Known vhosts: ${vhosts.sort().join(', ') || '(none)'}`,
  )
}

/** `evt topology`: the graph of the live broker's topology (or of definitions files), and optionally event routes. */
export async function topologyView(input: TopologyViewInput): Promise<TopologyView> {
  let defs: Definitions
  let stats: Map<string, QueueStats> | undefined
  if (input.files && input.files.length > 0) defs = await loadTopology(input.files)
  else {
    if (!input.managementUrl)
      throw new UsageError('no broker and no --file given', 'Start one with `evt up`, or pass --file')
    ;({defs, stats} = await liveTopology(input.managementUrl))
  }
  const vhosts = await resolveTarget(input.target, defs)
  const graph = buildGraph(defs, {vhosts, stats, includeSystem: input.includeSystem})
  const view: TopologyView = {
    source: input.files && input.files.length > 0 ? 'files' : 'live',
    vhosts: graph.vhosts.map((v) => v.vhost),
    graph,
    definitions: defs,
  }
  if (input.events) {
    const {routes, findings} = eventRoutes(defs, await catalogueRoutes(), vhosts)
    view.routes = routes
    view.findings = findings
  }
  return view
}
