import {describe, expect, it} from 'vitest'
import {type Definitions, emptyDefinitions} from '../../../src/topology/definitions.js'
import {planDefinitions} from '../../../src/topology/plan.js'
import {countMarks, diffKey, planPreview} from '../../../src/topology/view/diff.js'
import {buildGraph} from '../../../src/topology/view/graph.js'
import {renderTree} from '../../../src/topology/view/tree.js'
import {painter} from '../../../src/ui/terminal.js'

const defs = (part: Partial<Definitions>): Definitions => ({...emptyDefinitions(), ...part})
const exchange = {
  name: 'orders',
  vhost: 'v1',
  type: 'topic',
  durable: true,
  auto_delete: false,
  internal: false,
  arguments: {},
}
const queue = (name: string, args: Record<string, unknown> = {}) => ({
  name,
  vhost: 'v1',
  durable: true,
  auto_delete: false,
  arguments: args,
})
const binding = (destination: string, key: string) => ({
  source: 'orders',
  vhost: 'v1',
  destination,
  destination_type: 'queue' as const,
  routing_key: key,
  arguments: {},
})

const current = defs({
  vhosts: [{name: 'v1'}],
  exchanges: [exchange],
  queues: [queue('billing', {'x-message-ttl': 1000}), queue('legacy')],
  bindings: [binding('billing', 'order.*'), binding('legacy', 'order.#'), binding('billing', 'invoice.*')],
})
// The change under review: a new queue and binding, billing's TTL changed (a conflict), legacy left out.
const desired = defs({
  vhosts: [{name: 'v1'}],
  exchanges: [exchange],
  queues: [queue('billing', {'x-message-ttl': 5000}), queue('audit')],
  bindings: [binding('billing', 'order.*'), binding('audit', '#')],
})

describe('provision plan as a diff tree', () => {
  it('marks what is added, in conflict and left as is, and draws the files over the broker', () => {
    const preview = planPreview(planDefinitions(desired, current), current)
    expect(preview.vhosts).toEqual(['v1'])
    expect(preview.marks.get(diffKey('queue', 'v1', 'audit'))?.mark).toBe('add')
    expect(preview.marks.get(diffKey('binding', 'v1', 'orders', binding('audit', '#')))?.mark).toBe('add')
    expect(preview.marks.get(diffKey('queue', 'v1', 'billing'))).toEqual({mark: 'conflict', reason: 'arguments'})
    expect(preview.marks.get(diffKey('queue', 'v1', 'legacy'))?.mark).toBe('kept')
    expect(preview.marks.get(diffKey('binding', 'v1', 'orders', binding('billing', 'invoice.*')))?.mark).toBe('kept')
    expect(preview.marks.has(diffKey('exchange', 'v1', 'orders'))).toBe(false)
    // The files' TTL is what the tree shows for billing.
    const billing = preview.definitions.queues.find((q) => q.name === 'billing')
    expect(billing?.arguments).toEqual({'x-message-ttl': 5000})

    const text = renderTree(buildGraph(preview.definitions, {vhosts: preview.vhosts}), preview.definitions, {
      paint: painter(false),
      marks: preview.marks,
    })
    const lines = text.split('\n')
    expect(lines).toContain('  vhost v1')
    expect(lines.find((l) => l.includes('→ audit'))).toMatch(/^\+ .*# → audit .*\[new\]$/)
    expect(lines.find((l) => l.includes('order.* → billing'))).toMatch(
      /^! .*TTL 5s .*\[conflict, needs --force: arguments\]$/,
    )
    expect(lines.find((l) => l.includes('→ legacy'))).toMatch(/^ {2}.*\[not in the files: left as it is\]$/)
  })

  it('with --force, the bindings not in the files that go with a recreated queue are marked removed', () => {
    const preview = planPreview(planDefinitions(desired, current), current, {force: true})
    expect(preview.marks.get(diffKey('queue', 'v1', 'billing'))?.mark).toBe('recreate')
    expect(preview.marks.get(diffKey('binding', 'v1', 'orders', binding('billing', 'invoice.*')))?.mark).toBe('remove')
    expect(preview.marks.get(diffKey('binding', 'v1', 'orders', binding('legacy', 'order.#')))?.mark).toBe('kept')
    expect(countMarks(preview.marks)).toEqual({add: 2, change: 0, recreate: 1, conflict: 0, remove: 1, kept: 2})
  })

  it('an unchanged plan marks nothing', () => {
    const preview = planPreview(planDefinitions(current, current), current)
    expect([...preview.marks.values()]).toEqual([])
  })
})
