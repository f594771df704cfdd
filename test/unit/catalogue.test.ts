import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {createCatalogue, loadCatalogue, readEventTypes} from '../../src/catalogue/catalogue.js'
import {generateEvent} from '../../src/catalogue/generate.js'
import {parsedCacheLookup, writeParsedCache} from '../../src/catalogue/parsed-cache.js'
import {dataValidator} from '../../src/catalogue/validate.js'
import {EvtError} from '../../src/errors.js'
import {builtinEventsDir} from '../../src/project/paths.js'
import {parseYaml} from '../../src/util/yaml.js'

const catalogue = loadCatalogue()

function usageError(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    expect((err as EvtError).exitCode).toBe(2)
    return err as EvtError
  }
  throw new Error('expected a UsageError')
}

describe('the catalogue fixtures', () => {
  it('holds every documented event type of the seeds, per system', () => {
    const bySystem = (s: string) => catalogue.list().filter((t) => t.system === s)
    expect(bySystem('ecommerce')).toHaveLength(29)
    expect(bySystem('tutorgo').map((t) => t.name)).toEqual([
      'booking.cancelled',
      'booking.created',
      'payment.completed',
      'review.submitted',
    ])
    expect(bySystem('customers').map((t) => [t.exchange, t.routingKey])).toEqual([
      ['customer_events', 'customers.created.{month}'],
    ])
    expect(bySystem('courses').map((t) => [t.exchange, t.routingKey])).toEqual([['videos', 'videos.created']])
  })

  it('puts seed 001 events on their exchanges with their routing keys', () => {
    const ec = catalogue.list().filter((t) => t.system === 'ecommerce')
    const byExchange = (x: string) => ec.filter((t) => t.exchange === x).map((t) => t.routingKey)
    expect(byExchange('orders')).toHaveLength(8)
    expect(byExchange('products').sort()).toEqual(
      [
        'product.created',
        'product.updated',
        'product.deleted',
        'product.stock.updated',
        'product.stock.low',
        'product.stock.out',
        'product.price.changed',
      ].sort(),
    )
    expect(byExchange('customers')).toHaveLength(6)
    expect(byExchange('payments').sort()).toEqual(
      ['payment.completed', 'payment.failed', 'payment.initiated', 'payment.refund.completed'].sort(),
    )
    expect(byExchange('notifications').sort()).toEqual(
      ['notification.email', 'notification.push', 'notification.sms', 'notification.telegram'].sort(),
    )
    for (const t of ec) {
      expect(t.vhost).toBe('ecommerce')
      expect(t.description.length).toBeGreaterThan(5)
      expect(t.source).toMatch(/-service$/)
    }
  })

  it('keeps the fields of seed 004 booking example', () => {
    const [t] = catalogue.resolve('booking.created')
    expect(Object.keys(t!.schema.properties ?? {})).toEqual([
      'bookingId',
      'tutorId',
      'studentId',
      'subject',
      'startTime',
      'totalAmount',
      'timestamp',
    ])
    expect(t!.exchange).toBe('tutorgo_events')
  })

  it('describes order status and currency as enums', () => {
    const [t] = catalogue.resolve('order.created')
    const props = t!.schema.properties!
    expect(props.status!.enum).toContain('shipped')
    expect(props.currency!.enum).toContain('UAH')
  })
})

describe('resolve', () => {
  it('finds a short name, a qualified name and topic patterns', () => {
    expect(catalogue.resolve('order.created').map((t) => t.qualifiedName)).toEqual(['ecommerce/order.created'])
    expect(catalogue.resolve('tutorgo/payment.completed')[0]!.exchange).toBe('tutorgo_events')
    expect(catalogue.resolve('order.*')).toHaveLength(8)
    expect(catalogue.resolve('product.#')).toHaveLength(7)
    expect(catalogue.resolve('payment.*').map((t) => t.qualifiedName)).toEqual([
      'ecommerce/payment.completed',
      'ecommerce/payment.failed',
      'ecommerce/payment.initiated',
      'tutorgo/payment.completed',
    ])
    expect(catalogue.resolve('*')).toHaveLength(catalogue.list().length)
    expect(catalogue.resolve('tutorgo/#')).toHaveLength(4)
    expect(catalogue.resolveAll(['order.created', 'order.*'])).toHaveLength(8)
  })

  it('refuses an ambiguous short name, listing the candidates', () => {
    const err = usageError(() => catalogue.resolve('payment.completed'))
    expect(err.message).toMatch(/ambiguous/)
    expect(err.details).toEqual({candidates: ['ecommerce/payment.completed', 'tutorgo/payment.completed']})
  })

  it('suggests close names for an unknown type', () => {
    const err = usageError(() => catalogue.resolve('order.craeted'))
    expect(err.hint).toMatch(/Did you mean: order\.created/)
    expect(usageError(() => catalogue.resolve('nosuch/order.created')).message).toMatch(/unknown system/)
    expect(usageError(() => catalogue.resolve('invoice.*')).message).toMatch(/unknown event type/)
  })
})

describe('adding a type is adding a fixture', () => {
  // Every temporary catalogue folder goes when the file is done.
  const dirs: string[] = []
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'evt-cat-'))
    dirs.push(dir)
    return dir
  }
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
  })

  it('loads a new YAML file and generates valid data from its recipe alone', async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'invoice.issued.yaml'),
      [
        'name: invoice.issued',
        'system: billing',
        'vhost: billing',
        'exchange: invoices',
        'routingKey: invoice.issued.{data.currency}',
        'description: An invoice was issued.',
        'source: billing-service',
        'schema:',
        '  type: object',
        '  required: [invoice_number, lines, total, currency]',
        '  properties:',
        '    invoice_number: {type: string, pattern: "^INV-\\\\d{5}$", x-pattern: "INV-{{number:5}}"}',
        '    lines:',
        '      type: array',
        '      minItems: 2',
        '      maxItems: 4',
        '      items: {type: object, properties: {amount: {type: number, minimum: 1, maximum: 10}}}',
        '    total: {type: number, x-derive: "sum(lines[].amount)"}',
        '    currency: {type: string, enum: [EUR]}',
      ].join('\n'),
    )
    const cat = createCatalogue(readEventTypes(dir))
    const [t] = cat.resolve('invoice.issued')
    const e = await generateEvent(t!, {seed: 3})
    const data = e.envelope.data as {total: number; lines: {amount: number}[]}
    expect(await dataValidator(t!).then((v) => v(data))).toEqual([])
    expect(data.total).toBeCloseTo(
      data.lines.reduce((a, l) => a + l.amount, 0),
      2,
    )
    expect(e.routingKey).toBe('invoice.issued.EUR')
  })

  it('rejects a fixture with a missing field or an unknown derivation', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'a.json'), JSON.stringify({name: 'a'}))
    expect(() => readEventTypes(dir)).toThrow(/has no "system"/)
    const dir2 = tempDir()
    const bad = {
      name: 'a',
      system: 's',
      vhost: 'v',
      exchange: 'x',
      routingKey: 'a',
      description: 'd',
      source: 's',
      schema: {type: 'object', properties: {n: {type: 'number', 'x-derive': 'avg(x)'}}},
    }
    writeFileSync(join(dir2, 'a.json'), JSON.stringify(bad))
    expect(() => readEventTypes(dir2)).toThrow(/unknown x-derive function "avg"/)
  })
})

describe('the build-time cache of the built-in fixtures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evt-parsed-cache-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('holds every built-in YAML fixture as yaml parses it, and nothing for text it was not built from', () => {
    const file = join(dir, 'parsed.json')
    const texts: string[] = []
    const walk = (d: string) => {
      for (const entry of readdirSync(d, {withFileTypes: true})) {
        const p = join(d, entry.name)
        if (entry.isDirectory()) walk(p)
        else if (/\.ya?ml$/.test(entry.name)) texts.push(readFileSync(p, 'utf8'))
      }
    }
    walk(builtinEventsDir())
    expect(texts.length).toBeGreaterThan(30)
    expect(writeParsedCache(builtinEventsDir(), file)).toBe(new Set(texts).size)
    const lookup = parsedCacheLookup(file)
    for (const text of texts) expect(lookup(text)).toEqual(parseYaml(text))
    expect(lookup(`${texts[0]}\n# edited\n`)).toBeUndefined()
    // Each hit is a copy: changing one does not change the next.
    ;(lookup(texts[0]) as Record<string, unknown>).name = 'changed'
    expect((lookup(texts[0]) as Record<string, unknown>).name).not.toBe('changed')
  })

  it('a missing cache file is no cache', () => {
    expect(parsedCacheLookup(join(dir, 'absent.json'))('name: x\n')).toBeUndefined()
  })
})
