import {describe, expect, it} from 'vitest'
import {EvtError} from '../../src/errors.js'
import {compileRoutingFilter, compileWhere, parseValue, type WhereView} from '../../src/tail/filters.js'

function view(body: unknown, extra: Partial<WhereView> = {}): WhereView {
  return {
    body,
    headers: {},
    properties: {},
    routingKey: 'order.created',
    exchange: 'orders',
    vhost: 'ecommerce',
    ...extra,
  }
}

describe('--filter (routing-key topic patterns)', () => {
  it('is undefined without patterns, and matches any of several', () => {
    expect(compileRoutingFilter([])).toBeUndefined()
    const f = compileRoutingFilter(['order.*', 'payment.#'])
    expect(f?.('order.created')).toBe(true)
    expect(f?.('order.created.v2')).toBe(false)
    expect(f?.('payment')).toBe(true)
    expect(f?.('payment.a.b')).toBe(true)
    expect(f?.('customer.created')).toBe(false)
    // cached answers stay right
    expect(f?.('order.created')).toBe(true)
    expect(compileRoutingFilter(['#'])?.('')).toBe(true)
  })
})

describe('--where', () => {
  const order = {type: 'order.created', data: {total: 150, currency: 'EUR', paid: true, note: null, lines: [1, 2]}}

  it('compares numbers, strings, booleans and null', () => {
    expect(compileWhere(['data.total>100'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.total>=150'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.total<150'])?.(view(order))).toBe(false)
    expect(compileWhere(['data.total<=150'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.total=150'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.total!=150'])?.(view(order))).toBe(false)
    expect(compileWhere(['type=order.created'])?.(view(order))).toBe(true)
    expect(compileWhere(['type = "order.created"'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.paid=true'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.note=null'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.currency>DKK'])?.(view(order))).toBe(true)
  })

  it('numbers held as strings still compare as numbers', () => {
    expect(compileWhere(['data.total>100'])?.(view({data: {total: '120'}}))).toBe(true)
    expect(compileWhere(['data.total>100'])?.(view({data: {total: 'abc'}}))).toBe(false)
    expect(compileWhere(['data.total>100'])?.(view({data: {}}))).toBe(false)
  })

  it('wildcards, regular expressions, presence and absence', () => {
    expect(compileWhere(['type=order.*'])?.(view(order))).toBe(true)
    expect(compileWhere(['type!=payment.*'])?.(view(order))).toBe(true)
    expect(compileWhere(['type~^order\\.(created|paid)$'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.currency?'])?.(view(order))).toBe(true)
    expect(compileWhere(['!data.discount'])?.(view(order))).toBe(true)
    expect(compileWhere(['data.discount?'])?.(view(order))).toBe(false)
  })

  it('reads headers, properties and routing fields; several --where must all hold', () => {
    const v = view(order, {headers: {tenant: 'acme'}, properties: {contentType: 'application/json'}})
    expect(compileWhere(['headers.tenant=acme'])?.(v)).toBe(true)
    expect(compileWhere(['properties.contentType=application/json'])?.(v)).toBe(true)
    expect(compileWhere(['routingKey=order.*', 'exchange=orders', 'vhost=ecommerce'])?.(v)).toBe(true)
    expect(compileWhere(['routingKey=order.*', 'exchange=payments'])?.(v)).toBe(false)
  })

  it('a non-JSON body has no fields', () => {
    expect(compileWhere(['type=x'])?.(view(undefined))).toBe(false)
    expect(compileWhere(['!type'])?.(view(undefined))).toBe(true)
  })

  it('refuses what it cannot read, with exit 2', () => {
    for (const bad of ['total', '>100', 'data.total>', 'type~(']) {
      let err: unknown
      try {
        compileWhere([bad])
      } catch (e) {
        err = e
      }
      expect(err, bad).toBeInstanceOf(EvtError)
      expect((err as EvtError).exitCode).toBe(2)
    }
  })

  it('parses values', () => {
    expect(parseValue('12.5')).toBe(12.5)
    expect(parseValue('-3')).toBe(-3)
    expect(parseValue('"12"')).toBe('12')
    expect(parseValue('abc')).toBe('abc')
    expect(parseValue('false')).toBe(false)
  })
})
