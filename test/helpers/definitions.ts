import {type Definitions, emptyDefinitions} from '../../src/topology/definitions.js'

/** Small definitions for tests: exchanges by "name:type", queues with arguments, bindings "src -key-> dest". */
export function defsOf(spec: {
  vhost?: string
  exchanges?: string[]
  queues?: (string | {name: string; arguments?: Record<string, unknown>; durable?: boolean})[]
  bindings?: [source: string, key: string, destination: string, type?: 'queue' | 'exchange'][]
  policies?: Definitions['policies']
}): Definitions {
  const vhost = spec.vhost ?? 'v'
  return {
    ...emptyDefinitions(),
    vhosts: [{name: vhost}],
    exchanges: (spec.exchanges ?? []).map((e) => {
      const [name, type] = e.split(':')
      return {name, vhost, type: type ?? 'topic', durable: true, auto_delete: false, internal: false, arguments: {}}
    }),
    queues: (spec.queues ?? []).map((q) => {
      const o = typeof q === 'string' ? {name: q} : q
      return {name: o.name, vhost, durable: o.durable ?? true, auto_delete: false, arguments: o.arguments ?? {}}
    }),
    bindings: (spec.bindings ?? []).map(([source, key, destination, type]) => ({
      source,
      vhost,
      destination,
      destination_type: type ?? 'queue',
      routing_key: key,
      arguments: {},
    })),
    policies: spec.policies ?? [],
  }
}
