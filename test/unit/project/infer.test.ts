import {describe, expect, it} from 'vitest'
import {createCatalogue, parseEventType} from '../../../src/catalogue/catalogue.js'
import {generateEvent} from '../../../src/catalogue/generate.js'
import {dataValidator} from '../../../src/catalogue/validate.js'
import {inferSchema} from '../../../src/project/infer.js'

const samples = [
  {
    orderId: 'ord_1042',
    status: 'paid',
    total: 12.5,
    items: [{sku: 'A-1', qty: 2}],
    at: '2024-03-01T10:00:00Z',
    email: 'a@b.io',
  },
  {orderId: 'ord_77', status: 'paid', total: 30, items: [], at: '2024-03-01T11:00:00.123Z', note: 'leave at door'},
  {
    orderId: 'ord_5',
    status: 'shipped',
    total: 7,
    items: [{sku: 'B-22', qty: 1}],
    meter: 'MTR-12',
    at: '2024-03-02T09:00:00+02:00',
  },
  {orderId: 'ord_900', status: 'shipped', total: 99.99, items: [{sku: 'C', qty: 10}], at: '2024-03-03T00:00:00Z'},
]

function asType(schema: object) {
  const type = parseEventType(
    'x.json',
    JSON.stringify({
      name: 'order.seen',
      system: 'shop',
      vhost: 'shop',
      exchange: 'orders',
      routingKey: 'order.seen',
      description: 'd',
      source: 's',
      schema,
    }),
  )
  return createCatalogue([type]).list()[0]!
}

describe('schema inference', () => {
  it('accepts every sample it was inferred from and marks what it guessed', async () => {
    const schema = inferSchema(samples)
    const type = asType(schema)
    const validate = await dataValidator(type)
    for (const s of samples) expect(validate(s)).toEqual([])
    expect(schema.required).toEqual(['orderId', 'status', 'total', 'items', 'at'])
    expect(schema.properties?.orderId).toMatchObject({pattern: '^ord_\\d{1,4}$', 'x-pattern': 'ord_{{number:4}}'})
    expect(schema.properties?.status?.enum).toEqual(['paid', 'shipped'])
    expect(schema.properties?.total).toMatchObject({type: 'number', minimum: 7, maximum: 99.99})
    expect(schema.properties?.at?.format).toBe('date-time')
    expect(schema.properties?.items?.items?.properties?.qty).toMatchObject({type: 'integer', minimum: 1, maximum: 10})
    expect(schema.properties?.meter?.pattern).toBe('^MTR-\\d{2}$')
    expect(schema['x-inferred']).toBe(true)
    expect(schema.properties?.email?.['x-inferred']).toBe(true)
    // A message that breaks the shape seen is caught.
    expect(validate({...samples[0], total: 'x'})).not.toEqual([])
  })

  it('its recipe generates data that fits the inferred schema', async () => {
    const type = asType(inferSchema(samples))
    const validate = await dataValidator(type)
    for (const index of [0, 1, 2, 3, 4]) {
      const event = await generateEvent(type, {index, seed: 3, envelope: 'none'})
      expect(validate(event.envelope)).toEqual([])
    }
  })
})
