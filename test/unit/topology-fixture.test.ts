import {beforeAll, describe, expect, it} from 'vitest'
import type {Definitions} from '../../src/topology/definitions.js'
import {loadTopology} from '../../src/topology/load.js'
import {routeMessage} from '../../src/topology/routing.js'

let defs: Definitions
beforeAll(async () => {
  defs = await loadTopology()
})

const route = (vhost: string, exchange: string, key: string) => routeMessage(defs, vhost, exchange, key)

describe('the seed fixture', () => {
  it('customers (seed 000): user, permissions, topic permissions, exchanges and queues', () => {
    expect(defs.users.find((u) => u.name === 'customers_app')?.tags).toEqual(['administrator'])
    expect(defs.permissions).toContainEqual({
      user: 'customers_app',
      vhost: 'customers',
      configure: '.*',
      write: '.*',
      read: '.*',
    })
    expect(defs.topic_permissions).toContainEqual({
      user: 'customers_app',
      vhost: 'customers',
      exchange: 'customer_events',
      write: '^customers.*',
      read: '^customers.*',
    })
    const ex = defs.exchanges.find((e) => e.vhost === 'customers' && e.name === 'customer_events')
    expect(ex).toMatchObject({type: 'topic', durable: true})
    expect(route('customers', 'customer_events', 'customers.created.march')).toEqual(['customers_created'])
    expect(route('customers', 'customers_events', 'anything')).toEqual(['customers_events.subscriber'])
    expect(route('customers', 'customer_callbacks', 'customer_callbacks')).toEqual(['customer_callbacks'])
  })

  it('no fixture user carries a password', () => {
    for (const u of defs.users) expect(u).not.toHaveProperty('password_hash')
  })

  it('ecommerce (seed 001): the seven exchanges with their types', () => {
    const types = Object.fromEntries(defs.exchanges.filter((e) => e.vhost === 'ecommerce').map((e) => [e.name, e.type]))
    expect(types).toEqual({
      orders: 'topic',
      products: 'topic',
      customers: 'topic',
      payments: 'topic',
      notifications: 'topic',
      analytics: 'fanout',
      deadletter: 'direct',
    })
  })

  it.each([
    ['orders', 'order.created', ['notification.orders', 'order.created']],
    ['orders', 'order.confirmed', ['notification.orders', 'warehouse.orders']],
    ['orders', 'order.completed', ['crm.orders', 'notification.orders']],
    ['orders', 'order.processing', ['notification.orders', 'order.processing']],
    ['customers', 'customer.created', ['crm.customers', 'customer.created', 'notification.customers']],
    ['customers', 'customer.segment.changed', ['segment.changed']],
    ['payments', 'payment.completed', ['notification.payments']],
    ['products', 'product.created', ['search.products', 'search.reindex']],
    ['products', 'product.stock.low', ['inventory.low', 'product.stock']],
    ['products', 'inventory.low', ['warehouse.inventory']],
    ['notifications', 'notification.telegram', ['telegram.notifications']],
    ['notifications', 'notification.email', []],
  ])('ecommerce: %s %s reaches the subscribed services and analytics', (exchange, key, queues) => {
    expect(route('ecommerce', exchange, key)).toEqual([...queues, 'analytics.events'].sort())
  })

  it('ecommerce: every queue but the dead-letter queues carries the seed arguments', () => {
    for (const q of defs.queues.filter((q) => q.vhost === 'ecommerce' && !q.name.startsWith('deadletter.'))) {
      expect(q.arguments).toMatchObject({
        'x-dead-letter-exchange': 'deadletter',
        'x-dead-letter-routing-key': `${q.name}.failed`,
        'x-message-ttl': 86_400_000,
      })
    }
    expect(route('ecommerce', 'deadletter', 'order.processing.failed')).toEqual(['deadletter.orders'])
  })

  it('no black holes: a message dead-lettered from any queue lands in a dead-letter queue', () => {
    const withDlx = defs.queues.filter((q) => typeof q.arguments['x-dead-letter-exchange'] === 'string')
    expect(withDlx.length).toBeGreaterThan(25)
    for (const q of withDlx) {
      const dlx = String(q.arguments['x-dead-letter-exchange'])
      // Without x-dead-letter-routing-key RabbitMQ keeps the message's own key: require one.
      const key = q.arguments['x-dead-letter-routing-key']
      expect(typeof key, `${q.vhost}/${q.name} has no x-dead-letter-routing-key`).toBe('string')
      const landed = route(q.vhost, dlx, String(key))
      expect(landed.length, `${q.vhost}/${q.name} dead-letters into nothing`).toBeGreaterThan(0)
      for (const dlq of landed) {
        const target = defs.queues.find((t) => t.vhost === q.vhost && t.name === dlq)
        expect(target?.arguments['x-dead-letter-exchange'], `${dlq} must be terminal`).toBeUndefined()
      }
    }
  })

  it.each([
    ['booking.created', ['notification.booking']],
    ['booking.cancelled', ['notification.booking', 'payment.refund']],
    ['payment.completed', ['notification.payment']],
    ['review.submitted', ['notification.review']],
    ['payment.refund.requested', ['payment.refund']],
  ])('tutorgo (seed 004): %s → %j', (key, queues) => {
    expect(route('tutorgo', 'tutorgo_events', key)).toEqual(queues)
  })

  it('tutorgo dead-letters with the seed key into tutorgo_dlx', () => {
    const q = defs.queues.find((q) => q.vhost === 'tutorgo' && q.name === 'notification.booking')
    expect(q?.arguments).toEqual({
      'x-dead-letter-exchange': 'tutorgo_dlx',
      'x-dead-letter-routing-key': 'notification.booking.dead',
    })
  })

  it('courses (seed 003): videos.created reaches the e-mail queue', () => {
    expect(defs.exchanges.find((e) => e.vhost === 'courses')).toMatchObject({name: 'videos', type: 'topic'})
    expect(route('courses', 'videos', 'videos.created')).toEqual(['users.send_email_on_video_created'])
  })
})
