import {describe, expect, it} from 'vitest'
import {EvtError} from '../../src/errors.js'
import {headerArguments} from '../../src/tail/plan.js'
import {resolveTargets, type TopologyEntity} from '../../src/tail/resolve.js'
import type {TailSummary} from '../../src/tail/session.js'
import {formatSummary, unmetCount} from '../../src/tail/summary.js'
import {editDistance} from '../../src/util/did-you-mean.js'

const live = (kind: 'exchange' | 'queue', vhost: string, name: string, type?: string): TopologyEntity => ({
  kind,
  vhost,
  name,
  type,
  live: true,
})

const entities: TopologyEntity[] = [
  live('exchange', 'ecommerce', 'customers', 'topic'),
  live('exchange', 'ecommerce', 'orders', 'topic'),
  live('queue', 'ecommerce', 'order-service'),
  live('exchange', 'tutorgo', 'events', 'topic'),
  live('exchange', 'courses', 'events', 'topic'),
  live('queue', 'ecommerce', 'payments'),
  live('exchange', 'ecommerce', 'payments', 'topic'),
  {kind: 'exchange', vhost: 'customers', name: 'customers', type: 'topic', live: false},
  {kind: 'queue', vhost: 'tutorgo', name: 'not-provisioned', live: false},
]

function fails(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    if (err instanceof EvtError) return err
    throw err
  }
  throw new Error('expected an error')
}

describe('target resolution', () => {
  it('finds a name across vhosts; the live broker wins over a fixture twin', () => {
    expect(resolveTargets([{name: 'customers'}], entities)).toEqual([entities[0]])
    expect(resolveTargets([{name: 'order-service'}], entities)[0]).toMatchObject({kind: 'queue', vhost: 'ecommerce'})
  })

  it('an ambiguous name is exit 2 listing the candidates and how to choose', () => {
    const err = fails(() => resolveTargets([{name: 'events'}], entities))
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain('exchange tutorgo/events')
    expect(err.message).toContain('exchange courses/events')
    expect(err.hint).toContain('--vhost')
    expect(err.hint).toContain('--queue')
    const kinds = fails(() => resolveTargets([{name: 'payments'}], entities))
    expect(kinds.message).toContain('queue ecommerce/payments')
  })

  it('--vhost, --exchange/--queue and VHOST/NAME choose', () => {
    expect(resolveTargets([{name: 'events'}], entities, 'courses')[0].vhost).toBe('courses')
    expect(resolveTargets([{name: 'tutorgo/events'}], entities)[0].vhost).toBe('tutorgo')
    expect(resolveTargets([{name: 'payments', kind: 'queue'}], entities)[0].kind).toBe('queue')
  })

  it('an unknown name is exit 2 with suggestions', () => {
    const err = fails(() => resolveTargets([{name: 'ordrs'}], entities))
    expect(err.exitCode).toBe(2)
    expect(err.hint).toContain('exchange ecommerce/orders')
    const none = fails(() => resolveTargets([{name: 'zzzzzzzzzz'}], entities))
    expect(none.hint).toContain('evt provision')
  })

  it('a fixture object not on the broker says to provision it', () => {
    const err = fails(() => resolveTargets([{name: 'not-provisioned'}], entities))
    expect(err.message).toContain('not on the broker')
    expect(err.hint).toContain('evt provision')
  })

  it('several targets, each once', () => {
    const out = resolveTargets([{name: 'orders'}, {name: 'customers'}, {name: 'ecommerce/orders'}], entities)
    expect(out.map((e) => e.name)).toEqual(['orders', 'customers'])
  })

  it('edit distance', () => {
    expect(editDistance('orders', 'ordrs')).toBe(1)
    expect(editDistance('', 'abc')).toBe(3)
  })
})

describe('headers-exchange bindings', () => {
  it('NAME=VALUE pairs, x-match all unless given', () => {
    expect(headerArguments('tenant=acme')).toEqual({'x-match': 'all', tenant: 'acme'})
    expect(headerArguments('x-match=any,a=1,b=2')).toEqual({'x-match': 'any', a: '1', b: '2'})
    expect(fails(() => headerArguments('nope')).exitCode).toBe(2)
  })
})

describe('summary', () => {
  const s: TailSummary = {
    reason: 'timeout',
    messages: 3,
    delivered: 5,
    seconds: 2,
    perSecond: 1.5,
    countMet: false,
    byRoutingKey: {'order.created': 2, 'order.paid': 1},
    byType: {'order.created': 3},
    reconnects: 1,
    requeued: 0,
  }

  it('a table per routing key and type, and totals', () => {
    const text = formatSummary(s)
    expect(text).toContain('3 messages in 2.0 s (1.5 msg/s); stopped because the --timeout ran out')
    expect(text).toContain('2 delivered but filtered out')
    expect(text).toContain('reconnected 1×')
    // routing keys and types in separate tables: a key never sits beside an unrelated type
    expect(text).toMatch(/routing key\s+│ messages[\s\S]*order\.created\s+│\s+2\s+│\n[\s\S]*order\.paid\s+│\s+1 │/)
    expect(text).toMatch(/│ type\s+│ messages[\s\S]*order\.created\s+│\s+3 │/)
  })

  it('an unmet --count after --timeout or --idle is a failure; a signal is not', () => {
    expect(unmetCount(s, 5)).toBe('only 3 of 5 messages arrived before the --timeout ran out')
    expect(unmetCount(s, 3)).toBeUndefined()
    expect(unmetCount(s, undefined)).toBeUndefined()
    expect(unmetCount({...s, reason: 'signal'}, 5)).toBeUndefined()
  })
})
