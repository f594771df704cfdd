import type {ChannelModel, ConfirmChannel} from 'amqplib'
import {connectAmqp} from '../../amqp/connect.js'
import {withVhost} from '../../config/url.js'
import type {Definitions} from '../../topology/definitions.js'
import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'

/**
 * The topology check a team runs in CI after changing its definitions. The definitions (evt's fixture
 * topology, the team's files, or the broker's live ones: `topology` = fixtures | live | auto | a.json,b.json)
 * are copied into throwaway vhosts, never touching the originals. Then one generated message per
 * catalogue event type is published (persistent, mandatory, confirmed) and the exact queue depths say
 * where it landed, against where routeMessage() says its bindings promise.
 */
export async function topologyCheck(ctx: ScenarioContext, args: Spec) {
  const {loadCatalogue} = await import('../../catalogue/catalogue.js')
  const {generateEvent} = await import('../../catalogue/generate.js')
  const {routeMessage} = await import('../../topology/routing.js')
  const catalogue = args.str('events', 'fixtures') === 'fixtures' ? loadCatalogue() : loadCatalogue(args.str('events'))
  // only: check the types whose name starts with it ("" = all).
  const only = args.str('only', '')
  const types = catalogue.list().filter((t) => t.qualifiedName.startsWith(only) || t.name.startsWith(only))
  const loaded = await definitions(ctx, args.str('topology', 'auto'), new Set(types.map((t) => t.vhost)))
  const source = loaded.source
  const defs = alter(loaded.defs, args)

  const vhosts = [...new Set(types.map((t) => t.vhost))].filter((v) => defs.vhosts.some((d) => d.name === v))
  const copies = new Map(vhosts.map((v) => [v, `${ctx.vhost}.${v}`]))
  const connections = new Map<string, {conn: ChannelModel; ch: ConfirmChannel}>()
  const unrouted: string[] = []
  const mismatched: string[] = []
  const notDurable: string[] = []
  let returned = 0
  try {
    for (const [vhost, copy] of copies) {
      await ctx.api.createVhost(copy)
      const conn = await connectAmqp(withVhost(ctx.broker.amqpUrl, copy), {connectionName: 'evt scenario topology'})
      conn.on('error', () => {})
      const ch = await conn.createConfirmChannel()
      ch.on('error', () => {})
      ch.on('return', () => returned++)
      // copyWithoutBindingsFrom: the copy on the broker lacks that exchange's bindings (drift from the file).
      const dropped = args.str('copyWithoutBindingsFrom', '')
      await declareCopy(ch, {...defs, bindings: defs.bindings.filter((b) => b.source !== dropped)}, vhost)
      connections.set(vhost, {conn, ch})
    }
    for (const type of types) {
      const event = await generateEvent(type, {seed: 1})
      const label = `${type.qualifiedName} (${event.routingKey})`
      const expected = routeMessage(defs, type.vhost, type.exchange, event.routingKey)
      const target = connections.get(type.vhost)
      let observed: string[] = []
      if (target) {
        target.ch.publish(type.exchange, event.routingKey, event.body, {...event.properties, mandatory: true})
        await target.ch.waitForConfirms()
        observed = await landedIn(target.ch, defs, type.vhost)
      }
      if (observed.length === 0) unrouted.push(target ? label : `${label}: vhost ${type.vhost} is not in the topology`)
      if (expected.join() !== observed.join())
        mismatched.push(`${label}: bindings promise [${expected.join(', ')}], landed in [${observed.join(', ')}]`)
      if (event.properties.persistent) {
        for (const q of observed) {
          if (!defs.queues.find((d) => d.vhost === type.vhost && d.name === q)?.durable)
            notDurable.push(`${label} → ${q}`)
        }
      }
    }
  } finally {
    for (const {conn} of connections.values()) await conn.close().catch(() => {})
    for (const copy of copies.values()) await ctx.api.deleteVhost(copy).catch(() => {})
  }
  return {source, vhosts, types: types.length, returned, unrouted, mismatched, notDurable}
}

/**
 * The changes a team's bad edit would make, for negative cases: withoutBindingsFrom removes an exchange's
 * bindings, nonDurableQueues declares every queue non-durable.
 */
function alter(defs: Definitions, args: Spec): Definitions {
  const dropped = args.str('withoutBindingsFrom', '')
  return {
    ...defs,
    bindings: defs.bindings.filter((b) => b.source !== dropped),
    queues: args.bool('nonDurableQueues') ? defs.queues.map((q) => ({...q, durable: false})) : defs.queues,
  }
}

async function definitions(
  ctx: ScenarioContext,
  choice: string,
  catalogueVhosts: Set<string>,
): Promise<{defs: Definitions; source: string}> {
  const {loadTopology} = await import('../../topology/load.js')
  if (choice === 'fixtures') return {defs: await loadTopology(), source: 'fixture topology'}
  if (choice === 'live' || choice === 'auto') {
    const {exportDefinitions} = await import('../../topology/provision.js')
    const live = await exportDefinitions({managementUrl: ctx.broker.managementUrl})
    const provisioned = live.vhosts.some((v) => catalogueVhosts.has(v.name))
    if (choice === 'live' || provisioned) return {defs: live, source: 'the broker’s live definitions (copied)'}
    return {defs: await loadTopology(), source: 'fixture topology (nothing provisioned on the broker)'}
  }
  const files = choice.split(',').map((f) => f.trim())
  return {defs: await loadTopology(files), source: files.join(', ')}
}

/** Exchanges, queues and bindings of one vhost, declared over AMQP in the copy. */
async function declareCopy(ch: ConfirmChannel, defs: Definitions, vhost: string): Promise<void> {
  const builtIn = (name: string) => name === '' || name.startsWith('amq.')
  for (const e of defs.exchanges.filter((x) => x.vhost === vhost && !builtIn(x.name))) {
    await ch.assertExchange(e.name, e.type, {
      durable: e.durable,
      autoDelete: e.auto_delete,
      internal: e.internal,
      arguments: e.arguments,
    })
  }
  for (const q of defs.queues.filter((x) => x.vhost === vhost)) {
    await ch.assertQueue(q.name, {durable: q.durable, autoDelete: q.auto_delete, arguments: q.arguments})
  }
  for (const b of defs.bindings.filter((x) => x.vhost === vhost && x.source !== '')) {
    if (b.destination_type === 'queue') await ch.bindQueue(b.destination, b.source, b.routing_key, b.arguments)
    else await ch.bindExchange(b.destination, b.source, b.routing_key, b.arguments)
  }
}

/** Which queues of the vhost hold a message now (exact depths), emptied for the next type. */
async function landedIn(ch: ConfirmChannel, defs: Definitions, vhost: string): Promise<string[]> {
  const landed: string[] = []
  for (const q of defs.queues.filter((x) => x.vhost === vhost)) {
    const {messageCount} = await ch.checkQueue(q.name)
    if (messageCount > 0) {
      landed.push(q.name)
      await ch.purgeQueue(q.name)
    }
  }
  return landed.sort()
}
