import {describe, expect, it} from 'vitest'
import {type Definitions, emptyDefinitions} from '../../src/topology/definitions.js'
import {lintDefinitions} from '../../src/topology/lint.js'
import {planLabel} from '../../src/topology/model.js'
import {countPlan, planDefinitions} from '../../src/topology/plan.js'

function defs(part: Partial<Definitions>): Definitions {
  return {...emptyDefinitions(), ...part}
}

const exchange = {
  name: 'orders',
  vhost: 'v1',
  type: 'topic',
  durable: true,
  auto_delete: false,
  internal: false,
  arguments: {},
}
const queue = {name: 'q1', vhost: 'v1', durable: true, auto_delete: false, arguments: {'x-message-ttl': 1000}}
const binding = {
  source: 'orders',
  vhost: 'v1',
  destination: 'q1',
  destination_type: 'queue' as const,
  routing_key: 'order.*',
  arguments: {},
}
const desired = defs({
  vhosts: [{name: 'v1', description: 'test'}],
  users: [{name: 'app', tags: ['administrator']}],
  permissions: [{user: 'app', vhost: 'v1', configure: '.*', write: '.*', read: '.*'}],
  topic_permissions: [{user: 'app', vhost: 'v1', exchange: 'orders', write: '^order.*', read: '^order.*'}],
  policies: [
    {vhost: 'v1', name: 'p', pattern: '.*', 'apply-to': 'queues', definition: {'max-length': 10}, priority: 0},
  ],
  exchanges: [exchange],
  queues: [queue],
  bindings: [binding],
})

describe('planDefinitions', () => {
  it("creates everything on an empty broker, in RabbitMQ's import order", () => {
    const plan = planDefinitions(desired, {})
    expect(plan.map((i) => i.action)).toEqual(Array(8).fill('create'))
    expect(plan.map((i) => i.section)).toEqual([
      'users',
      'vhosts',
      'permissions',
      'topic_permissions',
      'exchanges',
      'policies',
      'queues',
      'bindings',
    ])
    expect(plan.map((i) => [i.kind, i.vhost, i.name])[7]).toEqual(['binding', 'v1', 'orders → queue q1 [order.*]'])
    expect(countPlan(plan)).toEqual({created: 8, updated: 0, unchanged: 0, skipped: 0, conflicts: 0})
  })

  it('finds nothing to do when the broker matches (export shapes: tags as string, classic queue type)', () => {
    const current = defs({
      ...desired,
      vhosts: [{name: 'v1', description: 'test'}],
      users: [{name: 'app', tags: 'administrator', password_hash: 'h', hashing_algorithm: 'sha256'}],
      queues: [{...queue, arguments: {'x-message-ttl': 1000, 'x-queue-type': 'classic'}}],
      bindings: [{...binding}],
    })
    const plan = planDefinitions(desired, current)
    expect(plan.filter((i) => i.action !== 'unchanged')).toEqual([])
  })

  it('updates permissions, topic permissions, policies and user tags in place', () => {
    const current = defs({
      ...desired,
      users: [{name: 'app', tags: [], password_hash: 'h'}],
      permissions: [{user: 'app', vhost: 'v1', configure: '', write: '.*', read: '.*'}],
      topic_permissions: [{user: 'app', vhost: 'v1', exchange: 'orders', write: '.*', read: '^order.*'}],
      policies: [{...desired.policies[0], definition: {'max-length': 5}}],
    })
    const plan = planDefinitions(desired, current)
    const changed = plan.filter((i) => i.action === 'update').map((i) => [planLabel(i), i.reason])
    expect(changed).toEqual([
      ['user app', 'tags'],
      ['permission v1/app', 'configure'],
      ['topic_permission v1/app/orders', 'write'],
      ['policy v1/p', 'definition'],
    ])
  })

  it('leaves an existing user without a known password alone (no reset)', () => {
    const current = defs({users: [{name: 'app', tags: ['administrator'], password_hash: 'someone-elses'}]})
    const plan = planDefinitions(defs({users: [{name: 'app', tags: ['administrator']}]}), current)
    expect(plan[0].action).toBe('unchanged')
  })

  it('updates a password hash, except for the acting user', () => {
    const want = defs({users: [{name: 'evt', tags: ['administrator'], password_hash: 'new'}]})
    const current = defs({users: [{name: 'evt', tags: ['administrator'], password_hash: 'old'}]})
    expect(planDefinitions(want, current)[0].action).toBe('update')
    expect(planDefinitions(want, current, {actingUser: 'evt'})[0].action).toBe('unchanged')
  })

  it('reports an exchange of another type as a conflict naming both sides', () => {
    const current = defs({exchanges: [{...exchange, type: 'fanout'}]})
    const [item] = planDefinitions(defs({exchanges: [exchange]}), current)
    expect(item.action).toBe('conflict')
    expect(item.reason).toBe('type')
    expect(item.existing).toContain('type=fanout')
    expect(item.wanted).toContain('type=topic')
  })

  it('reports a queue with other arguments as a conflict', () => {
    const current = defs({queues: [{...queue, arguments: {'x-message-ttl': 5}}]})
    const [item] = planDefinitions(defs({queues: [queue]}), current)
    expect(item.action).toBe('conflict')
    expect(item.reason).toBe('arguments')
    expect(item.existing).toContain('"x-message-ttl":5')
  })

  it('ignores a top-level queue "type" as RabbitMQ\'s import does, and the lint says so', () => {
    const want = defs({queues: [{...queue, type: 'quorum'} as typeof queue]})
    expect(planDefinitions(want, defs({queues: [queue]}))[0].action).toBe('unchanged')
    const [finding] = lintDefinitions(want, {version: '3.10.8'})
    expect(finding.path).toBe('$.queues[0].type')
    expect(finding.message).toContain('ignores the top-level type "quorum"')
  })

  it('skips amq.* and default exchanges, amq.* queues, default-exchange bindings, internal global parameters', () => {
    const want = defs({
      exchanges: [{...exchange, name: 'amq.topic'}, exchange],
      queues: [{...queue, name: 'amq.gen-1'}],
      bindings: [
        {...binding, source: ''},
        {...binding, source: 'amq.topic'},
      ],
      global_parameters: [
        {name: 'internal_cluster_id', value: 'x'},
        {name: 'cluster_name', value: 'c'},
      ],
    })
    const plan = planDefinitions(want, {})
    expect(plan.map((i) => `${i.kind} ${i.name}: ${i.action}`)).toEqual([
      'exchange amq.topic: skip',
      'exchange orders: create',
      'global_parameter internal_cluster_id: skip',
      'global_parameter cluster_name: create',
      'queue amq.gen-1: skip',
      'binding (default) → queue q1 [order.*]: skip',
      'binding amq.topic → queue q1 [order.*]: create',
    ])
    expect(plan[0].reason).toContain('RabbitMQ skips them on import')
  })

  it('compares vhost metadata as the import sets it (top-level wins, default_queue_type from metadata)', () => {
    const live = {name: 'v1', description: 'd', tags: ['a'], metadata: {default_queue_type: 'quorum'}}
    const same = defs({vhosts: [{name: 'v1', metadata: {description: 'd', tags: ['a'], default_queue_type: 'quorum'}}]})
    expect(planDefinitions(same, defs({vhosts: [live]}))[0].action).toBe('unchanged')
    const bare = defs({vhosts: [{name: 'v1'}]})
    // The import resets description and tags of a vhost given without them; it keeps default_queue_type.
    expect(planDefinitions(bare, defs({vhosts: [live]}))[0]).toMatchObject({
      action: 'update',
      reason: 'description, tags',
    })
    const dqt = defs({vhosts: [{name: 'v1', description: 'd', tags: 'a', metadata: {default_queue_type: 'stream'}}]})
    expect(planDefinitions(dqt, defs({vhosts: [live]}))[0].reason).toBe('default_queue_type')
  })

  it('updates user limits, parameters and global parameters', () => {
    const want = defs({
      users: [{name: 'app', tags: [], limits: {'max-connections': 5}}],
      parameters: [{vhost: 'v1', component: 'vhost-limits', name: 'limits', value: {'max-queues': 10}}],
      global_parameters: [{name: 'cluster_name', value: 'new'}],
    })
    const current = defs({
      users: [{name: 'app', tags: [], limits: {}}],
      parameters: [{vhost: 'v1', component: 'vhost-limits', name: 'limits', value: {'max-queues': 5}}],
      global_parameters: [{name: 'cluster_name', value: 'old'}],
    })
    expect(planDefinitions(want, current).map((i) => [planLabel(i), i.action, i.reason])).toEqual([
      ['user app', 'update', 'limits'],
      ['global_parameter cluster_name', 'update', 'value'],
      ['parameter v1/vhost-limits/limits', 'update', 'value'],
    ])
    expect(planDefinitions(want, want).every((i) => i.action === 'unchanged')).toBe(true)
  })

  it('reports a queue with other durability as a conflict', () => {
    const current = defs({queues: [{...queue, durable: false}]})
    expect(planDefinitions(defs({queues: [queue]}), current)[0].action).toBe('conflict')
  })

  it('creates a binding that differs only by routing key', () => {
    const current = defs({bindings: [{...binding, routing_key: 'order.#'}]})
    expect(planDefinitions(defs({bindings: [binding]}), current)[0].action).toBe('create')
  })

  it('ignores objects on the broker that the files do not mention', () => {
    const current = defs({exchanges: [exchange, {...exchange, name: 'other'}]})
    const plan = planDefinitions(defs({exchanges: [exchange]}), current)
    expect(plan).toHaveLength(1)
    expect(plan[0].action).toBe('unchanged')
  })
})
