import {describe, expect, it} from 'vitest'
import {type RoutingDefinitions, routeMessage, topicMatches} from '../../src/topology/routing.js'

describe('topicMatches', () => {
  it.each([
    ['order.*', 'order.created', true],
    ['order.*', 'order.stock.updated', false],
    ['product.#', 'product.stock.low', true],
    ['product.#', 'product', true],
    ['#', 'anything.at.all', true],
    ['#', '', true],
    ['customers.created.#', 'customers.created.march', true],
    ['customers.created.#', 'billing.x', false],
    ['*.created', 'order.created', true],
    ['*.created', 'created', false],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['order.completed', 'order.completed', true],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected)
  })
})

describe('routeMessage', () => {
  const defs: RoutingDefinitions = {
    exchanges: [
      {name: 'orders', vhost: 'v', type: 'topic'},
      {name: 'analytics', vhost: 'v', type: 'fanout'},
      {name: 'deadletter', vhost: 'v', type: 'direct'},
      {name: 'h', vhost: 'v', type: 'headers'},
      {name: 'ae', vhost: 'v', type: 'topic', arguments: {'alternate-exchange': 'analytics'}},
    ],
    queues: [{name: 'direct.q', vhost: 'v'}],
    bindings: [
      {
        source: 'orders',
        vhost: 'v',
        destination: 'notification.orders',
        destination_type: 'queue',
        routing_key: 'order.*',
      },
      {
        source: 'orders',
        vhost: 'v',
        destination: 'crm.orders',
        destination_type: 'queue',
        routing_key: 'order.completed',
      },
      {source: 'orders', vhost: 'v', destination: 'analytics', destination_type: 'exchange', routing_key: '#'},
      {source: 'analytics', vhost: 'v', destination: 'analytics.all', destination_type: 'queue', routing_key: ''},
      {
        source: 'deadletter',
        vhost: 'v',
        destination: 'dl.orders',
        destination_type: 'queue',
        routing_key: 'order.failed',
      },
      {
        source: 'h',
        vhost: 'v',
        destination: 'h.q',
        destination_type: 'queue',
        routing_key: '',
        arguments: {'x-match': 'any', a: '1', b: '2'},
      },
    ],
  }
  it('follows topic bindings and exchange-to-exchange bindings', () => {
    expect(routeMessage(defs, 'v', 'orders', 'order.created')).toEqual(['analytics.all', 'notification.orders'])
    expect(routeMessage(defs, 'v', 'orders', 'order.completed')).toEqual([
      'analytics.all',
      'crm.orders',
      'notification.orders',
    ])
  })
  it('routes direct exchanges on the exact key only', () => {
    expect(routeMessage(defs, 'v', 'deadletter', 'order.failed')).toEqual(['dl.orders'])
    expect(routeMessage(defs, 'v', 'deadletter', 'order.other')).toEqual([])
  })
  it('matches headers exchanges with x-match any', () => {
    expect(routeMessage(defs, 'v', 'h', '', {b: '2'})).toEqual(['h.q'])
    expect(routeMessage(defs, 'v', 'h', '', {c: '3'})).toEqual([])
  })
  it('uses the alternate exchange when nothing else matches', () => {
    expect(routeMessage(defs, 'v', 'ae', 'x')).toEqual(['analytics.all'])
  })
  it('routes the default exchange to the queue named by the key, in the same vhost only', () => {
    expect(routeMessage(defs, 'v', '', 'direct.q')).toEqual(['direct.q'])
    expect(routeMessage(defs, 'other', '', 'direct.q')).toEqual([])
  })
})
