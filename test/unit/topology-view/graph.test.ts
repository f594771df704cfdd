import {describe, expect, it} from 'vitest'
import {buildGraph, deadLetterChain, formatMs} from '../../../src/topology/view/graph.js'
import {eventRoutes} from '../../../src/topology/view/routes.js'
import {defsOf} from '../../helpers/definitions.js'

const shop = defsOf({
  exchanges: ['orders:topic', 'analytics:fanout', 'dlx:direct'],
  queues: [
    {
      name: 'billing',
      arguments: {
        'x-dead-letter-exchange': 'dlx',
        'x-dead-letter-routing-key': 'billing.failed',
        'x-message-ttl': 86_400_000,
      },
    },
    {name: 'audit', arguments: {'x-queue-type': 'quorum', 'x-delivery-limit': 5}},
    'billing.dead',
    'orphan',
  ],
  bindings: [
    ['orders', 'order.paid', 'billing'],
    ['orders', '#', 'analytics', 'exchange'],
    ['analytics', '', 'audit'],
    ['dlx', 'billing.failed', 'billing.dead'],
  ],
})

describe('the topology graph', () => {
  it('reads queue type, TTL, delivery limit and dead-letter target from the arguments', () => {
    const [v] = buildGraph(shop).vhosts
    const billing = v.queues.find((q) => q.name === 'billing')
    expect(billing).toMatchObject({
      type: 'classic',
      ttlMs: 86_400_000,
      deadLetter: {exchange: 'dlx', routingKey: 'billing.failed', from: 'argument'},
    })
    expect(v.queues.find((q) => q.name === 'audit')).toMatchObject({type: 'quorum', deliveryLimit: 5})
    expect(v.exchanges.find((e) => e.name === 'orders')?.bindings.map((b) => `${b.key}->${b.destination}`)).toEqual([
      '#->analytics',
      'order.paid->billing',
    ])
  })

  it('takes the dead-letter exchange from the highest-priority matching policy when the queue has no argument', () => {
    const defs = defsOf({
      exchanges: ['dlx:fanout'],
      queues: ['work', 'work.dead'],
      bindings: [['dlx', '', 'work.dead']],
      policies: [
        {
          vhost: 'v',
          name: 'low',
          pattern: '^work$',
          'apply-to': 'queues',
          priority: 1,
          definition: {'dead-letter-exchange': 'nowhere'},
        },
        {
          vhost: 'v',
          name: 'high',
          pattern: '^wo',
          'apply-to': 'queues',
          priority: 5,
          definition: {'dead-letter-exchange': 'dlx', 'message-ttl': 60_000},
        },
        {
          vhost: 'v',
          name: 'streams-only',
          pattern: '.*',
          'apply-to': 'streams',
          priority: 9,
          definition: {'dead-letter-exchange': 'x'},
        },
      ],
    })
    const work = buildGraph(defs).vhosts[0].queues.find((q) => q.name === 'work')
    expect(work).toMatchObject({deadLetter: {exchange: 'dlx', from: 'policy high'}, ttlMs: 60_000})
    expect(deadLetterChain(defs, 'v', 'work')?.reaches.map((r) => r.queue)).toEqual(['work.dead'])
  })

  it('follows a dead-letter chain to its end and cuts a cycle', () => {
    const defs = defsOf({
      exchanges: ['dlx:direct'],
      queues: [
        {name: 'a', arguments: {'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'b'}},
        {name: 'b', arguments: {'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'a'}},
      ],
      bindings: [
        ['dlx', 'b', 'b'],
        ['dlx', 'a', 'a'],
      ],
    })
    const chain = deadLetterChain(defs, 'v', 'a')
    expect(chain?.reaches).toEqual([
      {queue: 'b', next: {exchange: 'dlx', routingKey: 'a', reaches: [{queue: 'a', cycle: true}]}},
    ])
  })

  it('formats TTLs the way people write them', () => {
    expect([
      formatMs(86_400_000),
      formatMs(3_600_000),
      formatMs(60_000),
      formatMs(1500),
      formatMs(2 * 86_400_000),
    ]).toEqual(['24h', '1h', '1m', '1500ms', '2d'])
  })
})

describe('event routes', () => {
  const types = [
    {type: 'shop/order.paid', vhost: 'v', exchange: 'orders', routingKey: 'order.paid'},
    {type: 'shop/order.lost', vhost: 'v', exchange: 'orders', routingKey: 'order.lost'},
  ]

  it('lists the queues each type reaches, through exchange-to-exchange bindings', () => {
    const {routes} = eventRoutes(shop, types)
    expect(routes.map((r) => [r.type, r.queues])).toEqual([
      ['shop/order.paid', ['audit', 'billing']],
      ['shop/order.lost', ['audit']],
    ])
  })

  it('flags queues no type reaches, but not dead-letter queues fed by a reached queue', () => {
    const {findings} = eventRoutes(shop, types)
    expect(findings.unreachedQueues).toEqual([{vhost: 'v', queue: 'orphan'}])
    expect(findings.unroutedTypes).toEqual([])
    expect(findings.deadLetterGaps).toEqual([])
  })

  it('finds the type that reaches nothing once its binding is removed', () => {
    const broken = {...shop, bindings: shop.bindings.filter((b) => b.destination !== 'analytics')}
    const {findings} = eventRoutes(broken, types)
    expect(findings.unroutedTypes.map((r) => r.type)).toEqual(['shop/order.lost'])
  })

  it('flags a dead-letter exchange that has no queue for the key it will receive', () => {
    const broken = {...shop, bindings: shop.bindings.filter((b) => b.source !== 'dlx')}
    const {findings} = eventRoutes(broken, types)
    expect(findings.deadLetterGaps).toEqual([
      {vhost: 'v', queue: 'billing', exchange: 'dlx', routingKey: 'billing.failed'},
    ])
  })
})
