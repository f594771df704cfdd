import {gzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {
  binaryPreview,
  clockTime,
  compactPreview,
  deathLines,
  decodeBody,
  expandedMessage,
  hexDump,
  ndjsonLine,
  prettyLine,
  shortId,
  type TailDelivery,
} from '../../src/tail/format.js'
import {painter} from '../../src/ui/terminal.js'

const plain = painter(false)

function delivery(content: Buffer | string, extra: Partial<TailDelivery['properties']> = {}): TailDelivery {
  return {
    fields: {exchange: 'orders', routingKey: 'order.created', redelivered: false, deliveryTag: 1},
    properties: {headers: {}, contentType: 'application/json', ...extra},
    content: Buffer.isBuffer(content) ? content : Buffer.from(content),
  }
}

const envelope = {
  id: 'evt_1a2b3c4d5e6f',
  type: 'order.created',
  source: 'shop',
  data: {order_id: 'order_x', total: 1000, lines: [{sku: 'a'}], customer: {id: 'c1'}},
}

describe('decodeBody', () => {
  it('parses JSON once and keeps its text; binary and text bodies are not JSON', () => {
    const json = decodeBody(Buffer.from(JSON.stringify(envelope)))
    expect(json.json).toBe(true)
    expect(json.value).toEqual(envelope)
    expect(decodeBody(Buffer.from([0, 1, 2])).json).toBe(false)
    expect(decodeBody(Buffer.from('hello')).json).toBe(false)
    expect(decodeBody(Buffer.from('{broken')).json).toBe(false)
    expect(decodeBody(Buffer.from(' 42')).value).toBe(42)
    expect(decodeBody(Buffer.alloc(0)).json).toBe(false)
  })
})

describe('NDJSON', () => {
  it('is one valid JSON line with the documented keys, copying the body', () => {
    const d = delivery(JSON.stringify(envelope), {messageId: 'm1', headers: {tenant: 'acme'}})
    const line = ndjsonLine(
      7,
      Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      'ecommerce',
      'exchange ecommerce/orders',
      d,
      decodeBody(d.content),
    )
    expect(line.endsWith('\n')).toBe(true)
    expect(line.indexOf('\n')).toBe(line.length - 1)
    const parsed = JSON.parse(line)
    expect(parsed).toEqual({
      seq: 7,
      receivedAt: '2026-01-02T03:04:05.006Z',
      vhost: 'ecommerce',
      exchange: 'orders',
      routingKey: 'order.created',
      redelivered: false,
      tap: 'exchange ecommerce/orders',
      properties: {contentType: 'application/json', messageId: 'm1'},
      headers: {tenant: 'acme'},
      size: d.content.length,
      bodyEncoding: 'json',
      body: envelope,
    })
  })

  it('keeps one line per message for pretty-printed JSON bodies, and base64 for the rest', () => {
    const multi = delivery(JSON.stringify(envelope, null, 2))
    const line = ndjsonLine(1, 0, 'v', 't', multi, decodeBody(multi.content))
    expect(line.split('\n')).toHaveLength(2)
    expect(JSON.parse(line).body).toEqual(envelope)
    const bin = delivery(Buffer.from([0, 255, 10, 13]), {contentType: 'application/octet-stream'})
    const b = JSON.parse(ndjsonLine(2, 0, 'v', 't', bin, decodeBody(bin.content)))
    expect(b.bodyEncoding).toBe('base64')
    expect(Buffer.from(b.body, 'base64')).toEqual(bin.content)
  })

  it('survives AMQP byte-array and bigint header values', () => {
    const d = delivery('{}', {headers: {raw: Buffer.from('hi'), big: 10n}})
    const parsed = JSON.parse(ndjsonLine(1, 0, 'v', 't', d, decodeBody(d.content)))
    expect(parsed.headers).toEqual({raw: {base64: 'aGk='}, big: '10'})
  })
})

describe('pretty line', () => {
  it('never renders an object it had no room for as "{, ...}"', () => {
    expect(compactPreview({customer_id: 'cust_168', email: 'a@b.c'}, 5, plain)).toBe('{…}')
  })
  it('fits the terminal width when one is given, whatever the prefix length', () => {
    const big = {
      ...envelope,
      data: {customer_id: 'cust_928', email: 'someone@example.com', a: 1, b: 2, c: 3, d: 4, e: 5},
    }
    const d = delivery(JSON.stringify(big))
    for (const width of [130, 160, 200]) {
      const line = prettyLine(0, 'ecommerce', d, decodeBody(d.content), {
        paint: plain,
        previewWidth: 100,
        lineWidth: width,
      })
      expect(line.trimEnd().length).toBeLessThanOrEqual(width)
    }
  })
  it('time, vhost/exchange → key, type, short id, compact data', () => {
    const d = delivery(JSON.stringify(envelope))
    const line = prettyLine(Date.now(), 'ecommerce', d, decodeBody(d.content), {paint: plain, previewWidth: 100})
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} ecommerce\/orders → order\.created {2}evt_1a2b3c {2}\{order_id: "order_x", total: 1000, lines: \[\{…\}\], customer: \{id: "c1"\}\}\n$/,
    )
  })

  it('cuts the preview to its width', () => {
    const p = compactPreview({a: 'x'.repeat(30), b: 'y'.repeat(30), c: 1}, 40, plain)
    expect(p.length).toBeLessThanOrEqual(60)
    expect(p).toContain(', ...}')
  })

  it('colors only when asked', () => {
    const d = delivery(JSON.stringify(envelope))
    const colored = prettyLine(0, 'v', d, decodeBody(d.content), {paint: painter(true), previewWidth: 80})
    expect(colored).toContain('\u001b[')
    expect(prettyLine(0, 'v', d, decodeBody(d.content), {paint: plain, previewWidth: 80})).not.toContain('\u001b[')
  })

  it('shows a binary body by size, type and a printable preview', () => {
    const d = delivery(Buffer.from([0, 1, 2, 0x68, 0x69, 0xff]), {contentType: 'application/octet-stream'})
    const line = prettyLine(0, 'v', d, decodeBody(d.content), {paint: plain, previewWidth: 80})
    expect(line).toContain('[non-JSON 6 B, application/octet-stream] "...hi."')
    expect(binaryPreview(Buffer.alloc(5000, 0x41), undefined, plain)).toContain('[non-JSON 4.9 KB, no content-type]')
  })

  it('marks redeliveries and uses the message id when there is no envelope', () => {
    const d = delivery('[1,2,3]', {messageId: 'abcdef123456789'})
    d.fields.redelivered = true
    d.fields.exchange = ''
    const line = prettyLine(0, 'v', d, decodeBody(d.content), {paint: plain, previewWidth: 80})
    expect(line).toContain('v/(default) → order.created')
    expect(line).toContain('abcdef12 (redelivered)  [1, 2, 3]')
  })
})

describe('x-death in words', () => {
  const xDeath = [
    {
      count: 3,
      reason: 'rejected',
      queue: 'orders.work',
      time: {'!': 'timestamp', value: 1_767_225_600},
      exchange: 'orders',
      'routing-keys': ['order.created'],
    },
    {count: 1, reason: 'expired', queue: 'orders.retry', exchange: '', 'routing-keys': ['orders.work']},
  ]

  it('says queue, reason, count, original exchange and key', () => {
    const text = deathLines(xDeath, plain)
    expect(text).toContain(
      '↳ dead-lettered from queue orders.work (rejected) 3 times, originally orders → order.created, last at 2026-01-01T00:00:00.000Z',
    )
    expect(text).toContain('from queue orders.retry (expired) once, originally (default) → orders.work')
  })

  it('follows the pretty line of a dead-lettered message, and the expanded form', () => {
    const d = delivery(JSON.stringify(envelope), {headers: {'x-death': xDeath}})
    const line = prettyLine(0, 'v', d, decodeBody(d.content), {paint: plain, previewWidth: 80})
    expect(line.split('\n')).toHaveLength(4)
    const expanded = expandedMessage(0, 'v', 't', d, decodeBody(d.content), plain)
    expect(expanded).toContain('"x-death": [')
    expect(expanded).toContain('"order_id": "order_x"')
    expect(expanded).toContain('dead-lettered from queue orders.work')
  })
})

describe('small helpers', () => {
  it('short ids and clock time', () => {
    expect(shortId('evt_1a2b3c4d5e')).toBe('evt_1a2b3c')
    expect(shortId('0f8c2e4a-1b2c-4d5e-8f90-123456789abc')).toBe('0f8c2e4a')
    expect(shortId(undefined)).toBe('-')
    expect(clockTime(new Date(2026, 0, 1, 9, 8, 7, 6).getTime())).toBe('09:08:07.006')
  })
})

describe('bodies as they are', () => {
  it('NDJSON carries a UTF-8 body as text, saying so, and binary as base64', () => {
    const text = delivery('héllo\nworld', {contentType: 'text/plain'})
    const line = JSON.parse(ndjsonLine(1, 0, 'v', 't', text, decodeBody(text.content)))
    expect(line).toMatchObject({bodyEncoding: 'utf8', body: 'héllo\nworld'})
    const bin = delivery(Buffer.from([0, 0xff, 1]))
    expect(JSON.parse(ndjsonLine(1, 0, 'v', 't', bin, decodeBody(bin.content)))).toMatchObject({
      bodyEncoding: 'base64',
      body: Buffer.from([0, 0xff, 1]).toString('base64'),
    })
    // --save keeps a multi-line JSON body's exact bytes (as text)
    const pretty = delivery('{\n  "a": 1\n}')
    expect(JSON.parse(ndjsonLine(1, 0, 'v', 't', pretty, decodeBody(pretty.content), true))).toMatchObject({
      bodyEncoding: 'utf8',
      body: '{\n  "a": 1\n}',
    })
  })

  it('--expand prints whole bodies: long text uncut, JSON pretty, binary as a hex dump with its size', () => {
    const long = 'word '.repeat(400)
    const t = delivery(long, {contentType: 'text/plain'})
    expect(expandedMessage(0, 'v', 't', t, decodeBody(t.content), plain)).toContain(long)
    const j = delivery(JSON.stringify({a: {b: [1, 2]}}))
    expect(expandedMessage(0, 'v', 't', j, decodeBody(j.content), plain)).toContain('"a": {\n    "b": [')
    const bytes = Buffer.from(Array.from({length: 40}, (_, i) => (i * 37) % 256))
    const b = delivery(bytes, {contentType: 'application/octet-stream'})
    const out = expandedMessage(0, 'v', 't', b, decodeBody(b.content), plain)
    expect(out).toContain('body (binary, 40 bytes, application/octet-stream), hex:')
    expect(out).toContain(hexDump(bytes))
    expect(hexDump(bytes).split('\n')).toHaveLength(4)
  })

  it('decodes gzip content-encoding for display', () => {
    const z = delivery(gzipSync(Buffer.from('{"data":{"zipped":true}}')), {contentEncoding: 'gzip'})
    expect(prettyLine(0, 'v', z, decodeBody(z.content), {paint: plain, previewWidth: 80})).toContain('{zipped: true}')
    expect(expandedMessage(0, 'v', 't', z, decodeBody(z.content), plain)).toContain('gzip')
  })
})

describe('a readable tail line', () => {
  it('shows vhost "/" as "/", and the type only when it differs from the routing key', () => {
    const same = delivery(JSON.stringify({type: 'order.created', data: {}}))
    const line = prettyLine(0, '/', same, decodeBody(same.content), {paint: plain, previewWidth: 80})
    expect(line).toContain(' /orders → order.created  -  {}')
    expect(line.match(/order\.created/g)).toHaveLength(1)
    const other = delivery(JSON.stringify({type: 'invoice.sent', data: {}}))
    expect(prettyLine(0, 'v', other, decodeBody(other.content), {paint: plain, previewWidth: 80})).toContain(
      'order.created  invoice.sent',
    )
  })

  it('aligns the columns of successive lines', () => {
    const columns = {}
    const a = delivery(JSON.stringify({id: 'evt_aaaaaaaaaa', data: {x: 1}}))
    const b: TailDelivery = {...a, fields: {...a.fields, routingKey: 'k'}}
    const l1 = prettyLine(0, 'v', a, decodeBody(a.content), {paint: plain, previewWidth: 80, columns})
    const l2 = prettyLine(0, 'v', b, decodeBody(b.content), {paint: plain, previewWidth: 80, columns})
    expect(l2.indexOf('evt_aaaaaa')).toBe(l1.indexOf('evt_aaaaaa'))
  })

  it('fills the width with fields instead of stopping after two', () => {
    const data = Object.fromEntries(Array.from({length: 12}, (_, i) => [`field${i}`, i * 1000]))
    const d = delivery(JSON.stringify({id: 'evt_1', type: 'order.created', data}))
    const line = prettyLine(0, 'v', d, decodeBody(d.content), {paint: plain, previewWidth: 80, lineWidth: 160})
    expect(line.trimEnd().length).toBeLessThanOrEqual(160)
    expect(line.trimEnd().length).toBeGreaterThan(135)
    expect(line).toContain('field6: 6000')
  })
})
