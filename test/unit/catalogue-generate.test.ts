import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {loadCatalogue} from '../../src/catalogue/catalogue.js'
import {
  applyOverrides,
  BodySlab,
  EventFactory,
  fillRoutingKey,
  generateEvent,
  parseSetFlag,
  SEEDED_EPOCH,
} from '../../src/catalogue/generate.js'
import {fillPattern, parseDerivation, parsePath} from '../../src/catalogue/recipe.js'
import type {EventType} from '../../src/catalogue/types.js'
import {dataValidator} from '../../src/catalogue/validate.js'
import {EvtError} from '../../src/errors.js'
import {topicMatches} from '../../src/topology/routing.js'

const catalogue = loadCatalogue()
const one = (name: string): EventType => catalogue.resolve(name)[0] as EventType
// biome-ignore lint/suspicious/noExplicitAny: generated data is untyped JSON, read field by field
type Data = Record<string, any>

describe('generated payloads (property test over seeds)', () => {
  it('every type validates against its schema for 150 seeds, in a well-formed envelope', async () => {
    for (const type of catalogue.list()) {
      const validate = await dataValidator(type)
      const factory = await EventFactory.create(type, {seed: 12345, dataPool: 0})
      for (let i = 0; i < 150; i++) {
        const e = factory.event(i)
        const errors = validate(e.envelope.data)
        if (errors.length > 0) throw new Error(`${type.qualifiedName} #${i}: ${errors.join('; ')}`)
        expect(e.envelope.id).toMatch(/^evt_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(e.envelope.type).toBe(type.name)
        expect(e.envelope.source).toBe(type.source)
        expect(e.envelope.timestamp).toBe(new Date(SEEDED_EPOCH + i * 1000).toISOString())
        expect(e.properties.messageId).toBe(e.envelope.id)
      }
    }
  })

  it('keeps data internally consistent', async () => {
    for (let seed = 0; seed < 100; seed++) {
      const order = (await generateEvent(one('order.created'), {seed})).envelope.data as Data
      const sum = order.items.reduce((a: number, it: Data) => a + it.price * it.quantity, 0)
      expect(order.total).toBeCloseTo(sum, 2)
      expect(order.status).toBe('pending')
      expect(order.order_number).toMatch(/^ORD-2024-\d{3}$/)

      const refund = (await generateEvent(one('payment.refund.completed'), {seed})).envelope.data as Data
      expect(refund.amount).toBeLessThanOrEqual(refund.payment_amount)
      const refunded = (await generateEvent(one('order.refunded'), {seed})).envelope.data as Data
      expect(refunded.amount).toBeLessThanOrEqual(refunded.paid_amount)
      const cancelled = (await generateEvent(one('booking.cancelled'), {seed})).envelope.data as Data
      expect(cancelled.refundAmount).toBeLessThanOrEqual(cancelled.totalAmount)
      const redeemed = (await generateEvent(one('customer.points.redeemed'), {seed})).envelope.data as Data
      expect(redeemed.points).toBeLessThanOrEqual(redeemed.balance)
      const seg = (await generateEvent(one('customer.segment.changed'), {seed})).envelope.data as Data
      expect(seg.new_segment).not.toBe(seg.old_segment)
      const low = (await generateEvent(one('product.stock.low'), {seed})).envelope.data as Data
      expect(low.quantity).toBeLessThanOrEqual(low.threshold)
    }
  })
})

describe('reproducibility', () => {
  it('the same seed gives byte-identical bodies and properties; the index and seed change them', async () => {
    const t = one('order.created')
    const a = await EventFactory.create(t, {seed: 42})
    const b = await EventFactory.create(t, {seed: 42})
    for (let i = 0; i < 20; i++) {
      expect(a.message(i).body.equals(b.message(i).body)).toBe(true)
      expect(a.message(i).properties).toEqual(b.message(i).properties)
    }
    expect(a.message(0).body.equals(a.message(1).body)).toBe(false)
    const c = await EventFactory.create(t, {seed: 43})
    expect(c.message(0).body.equals(a.message(0).body)).toBe(false)
  })

  it('the data pool gives the same bytes as fresh generation within the pool', async () => {
    const t = one('order.paid')
    const pooled = await EventFactory.create(t, {seed: 9, dataPool: 10})
    const fresh = await EventFactory.create(t, {seed: 9, dataPool: 0})
    for (let i = 0; i < 10; i++) expect(pooled.message(i).body.equals(fresh.message(i).body)).toBe(true)
    // Past the pool the data repeats but the id stays unique.
    const m10 = pooled.event(10)
    expect(m10.envelope.data).toEqual(pooled.event(0).envelope.data)
    expect(m10.envelope.id).not.toBe(pooled.event(0).envelope.id)
  })

  it('without a seed, ids differ and timestamps are now', async () => {
    const t = one('videos.created')
    const before = Date.now()
    const a = await generateEvent(t)
    const b = await generateEvent(t)
    expect(a.envelope.id).not.toBe(b.envelope.id)
    expect(Date.parse(a.envelope.timestamp as string)).toBeGreaterThanOrEqual(before - 1000)
  })
})

describe('seeded output is stable across versions', () => {
  it('every built-in type gives the same routing keys, bodies and properties for seed 7 as recorded', async () => {
    const hash = createHash('sha1')
    for (const type of catalogue.list()) {
      const factory = await EventFactory.create(type, {seed: 7, dataPool: 0})
      for (let i = 0; i < 40; i++) {
        const m = factory.message(i)
        hash.update(m.routingKey)
        hash.update(m.body)
        hash.update(JSON.stringify(m.properties))
      }
    }
    // Recorded on 2026-12-03 (and equal to what the generator gave before its speed work that day). A change here
    // means `--seed N` now publishes other bodies: if that is meant (a fixture or the generator changed), say so in
    // the closing note of the change and record the new hash.
    expect(hash.digest('hex')).toBe('2091e5f418f6239edaec5c550666437d8edfbdf3')
  })
})

describe('envelopes and AMQP properties', () => {
  it('standard envelope of seed 001 with persistent mandatory properties', async () => {
    const e = await generateEvent(one('order.created'), {seed: 1, tenant: 'tenant_abc', correlationId: 'req_xyz'})
    expect(Object.keys(e.envelope)).toEqual([
      'id',
      'type',
      'source',
      'timestamp',
      'tenant_id',
      'correlation_id',
      'data',
      'metadata',
    ])
    expect(e.envelope.tenant_id).toBe('tenant_abc')
    expect(e.envelope.correlation_id).toBe('req_xyz')
    expect(e.envelope.metadata).toEqual({version: '1.0', user_id: expect.stringMatching(/^user_\d{3}$/)})
    expect(e.properties).toEqual({
      contentType: 'application/json',
      messageId: e.envelope.id,
      type: 'order.created',
      timestamp: Math.floor(SEEDED_EPOCH / 1000),
      correlationId: 'req_xyz',
      appId: 'oms-service',
      persistent: true,
      mandatory: true,
    })
    expect(JSON.stringify(e.envelope)).toBe(e.body.toString())
  })

  it('--envelope none sends the data; cloudevents a CloudEvents 1.0 structured body', async () => {
    const t = one('order.created')
    const raw = await generateEvent(t, {seed: 1, envelope: 'none'})
    const std = await generateEvent(t, {seed: 1})
    expect(raw.envelope).toEqual(std.envelope.data)
    const ce = await generateEvent(t, {seed: 1, envelope: 'cloudevents', persistent: false})
    expect(ce.envelope).toMatchObject({
      specversion: '1.0',
      id: std.envelope.id,
      source: 'oms-service',
      type: 'order.created',
      time: std.envelope.timestamp,
      datacontenttype: 'application/json',
      data: std.envelope.data,
    })
    expect(ce.properties.contentType).toBe('application/cloudevents+json')
    expect(ce.properties.persistent).toBe(false)
  })

  it('fills routing-key templates from the timestamp and the data', async () => {
    const e = await generateEvent(one('customers.created'), {seed: 5})
    expect(e.routingKey).toBe('customers.created.January')
    expect(topicMatches('customers.created.#', e.routingKey)).toBe(true)
    expect(fillRoutingKey('a.{year}.{day}.{data.x.y}', {x: {y: 'z'}}, new Date('2025-03-04T00:00:00Z'))).toBe(
      'a.2025.04.z',
    )
    expect(() => fillRoutingKey('a.{nope}', {}, new Date())).toThrow(/unknown routing key placeholder/)
  })
})

describe('overrides', () => {
  it('--set edits a field and derivations follow; an explicit derived value wins', async () => {
    const t = one('order.created')
    const edited = (await generateEvent(t, {seed: 2, overrides: {set: [parseSetFlag('items[0].price=1000')]}})).envelope
      .data as Data
    expect(edited.items[0].price).toBe(1000)
    const sum = edited.items.reduce((a: number, it: Data) => a + it.price * it.quantity, 0)
    expect(edited.total).toBeCloseTo(sum, 2)
    const fixed = (await generateEvent(t, {seed: 2, overrides: {set: [parseSetFlag('total=1')]}})).envelope.data as Data
    expect(fixed.total).toBe(1)
  })

  it('--data merges deeply', async () => {
    const t = one('order.paid')
    const d = (
      await generateEvent(t, {seed: 2, overrides: {data: {payment: {currency: 'EUR'}, order_id: 'order_abcdefgh'}}})
    ).envelope.data as Data
    expect(d.payment.currency).toBe('EUR')
    expect(d.payment.payment_id).toMatch(/^pay_/)
    expect(d.order_id).toBe('order_abcdefgh')
  })

  it('a schema violation is a usage error listing each problem', async () => {
    const t = one('order.created')
    const err = await generateEvent(t, {
      seed: 1,
      overrides: {set: [parseSetFlag('currency=XYZ'), parseSetFlag('items[0].quantity=0'), parseSetFlag('extra=1')]},
    }).catch((e) => e)
    expect(err).toBeInstanceOf(EvtError)
    expect(err.exitCode).toBe(2)
    expect(err.details.errors).toEqual(
      expect.arrayContaining([
        'data.currency must be one of UAH, USD, EUR, GBP, PLN',
        'data.items.0.quantity must be >= 1',
        'data has unknown property "extra"',
      ]),
    )
  })

  it('parses --set values as JSON when possible', () => {
    expect(parseSetFlag('a.b=3')).toEqual({path: 'a.b', value: 3})
    expect(parseSetFlag('s=paid')).toEqual({path: 's', value: 'paid'})
    expect(parseSetFlag('o={"x":true}')).toEqual({path: 'o', value: {x: true}})
    expect(() => parseSetFlag('novalue')).toThrow(/path=value/)
    const data: Data = {a: {b: 1}}
    expect(applyOverrides(data, {set: [{path: 'a.c[1]', value: 2}]})).toEqual([['a', 'c', 1]])
    expect(data.a.c).toEqual([undefined, 2])
  })
})

describe('the recipe language', () => {
  it('fills x-pattern placeholders', async () => {
    const {faker} = await import('@faker-js/faker/locale/en')
    faker.seed(1)
    const ctx = {faker, refDate: new Date('2031-05-01T00:00:00Z')}
    expect(fillPattern('ORD-{{year}}-{{number:3}}', ctx)).toMatch(/^ORD-2031-\d{3}$/)
    expect(fillPattern('{{alpha:4}}|{{alnum:6}}|{{upper:2}}|{{hex:4}}', ctx)).toMatch(
      /^[a-z]{4}\|[a-z0-9]{6}\|[A-Z0-9]{2}\|[0-9a-f]{4}$/,
    )
    expect(() => fillPattern('{{nope}}', ctx)).toThrow(/unknown x-pattern placeholder/)
  })

  it('parses derivations and paths', () => {
    expect(parseDerivation('sum(items[].price * items[].quantity)')).toEqual({
      fn: 'sum',
      args: ['items[].price * items[].quantity'],
    })
    expect(() => parseDerivation('total')).toThrow(/expected fn\(args\)/)
    expect(parsePath('items[2].price')).toEqual(['items', 2, 'price'])
  })
})

describe('BodySlab (message bodies cut from large buffers)', () => {
  it('gives each body its own bytes, across slabs and with multi-byte text', () => {
    const slab = new BodySlab()
    const data = `{"name":"Zoë","pad":"${'x'.repeat(200)}"}`
    const middle = Buffer.from(data)
    const bodies: {buffer: Buffer; text: string}[] = []
    // Enough bodies to fill several 256 KiB slabs.
    for (let i = 0; i < 3000; i++) {
      const head = `{"id":"${i}","note":"${'é'.repeat(i % 7)}","data":`
      const tail = `,"n":${i}}`
      bodies.push({buffer: slab.cut(head, middle, tail), text: `${head}${data}${tail}`})
    }
    for (const {buffer, text} of bodies) expect(buffer.toString('utf8')).toBe(text)
    expect(new Set(bodies.map((b) => b.buffer.buffer)).size).toBeGreaterThan(1)
  })

  it('starts small: one body does not hold a large buffer', () => {
    const body = new BodySlab().cut('{"a":', Buffer.from('1'), '}')
    expect(body.toString()).toBe('{"a":1}')
    expect(body.buffer.byteLength).toBeLessThanOrEqual(4096)
  })

  it('takes a body larger than a slab whole', () => {
    const big = Buffer.alloc(400 * 1024, 'x')
    const body = new BodySlab().cut('[', big, ']')
    expect(body.length).toBe(big.length + 2)
    expect(body[0]).toBe('['.charCodeAt(0))
    expect(body[body.length - 1]).toBe(']'.charCodeAt(0))
  })
})
