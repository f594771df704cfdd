import {describe, expect, it} from 'vitest'
import type {BrokerRecord} from '../../../src/broker/types.js'
import {DEFAULT_AMQP_URL, resolveConnection} from '../../../src/config/resolve.js'

const record: BrokerRecord = {
  name: 'default',
  runtime: 'local',
  amqpUrl: 'amqp://evt:statepw@127.0.0.1:40000',
  managementUrl: 'http://evt:statepw@127.0.0.1:40001',
  username: 'evt',
  password: 'statepw',
  startedAt: '2026-01-01T00:00:00Z',
}

describe('resolveConnection precedence: flag > env > evt up state > default', () => {
  it('takes the flag over everything', () => {
    const c = resolveConnection({url: 'amqp://f:f@flag:1'}, {RABBITMQ_URL: 'amqp://e:e@env:2'}, record)
    expect(c.amqpUrl).toBe('amqp://f:f@flag:1')
    expect(c.source).toBe('flag')
    expect(c.managementUrl).toBe('http://f:f@flag:10001')
    expect(c.broker).toBeUndefined()
  })
  it('takes RABBITMQ_URL over the state', () => {
    const c = resolveConnection({}, {RABBITMQ_URL: 'amqp://e:e@env:5672'}, record)
    expect(c.source).toBe('env')
    expect(c.managementUrl).toBe('http://e:e@env:15672')
  })
  it('takes the evt up broker, with its own management URL', () => {
    const c = resolveConnection({}, {}, record)
    expect(c.source).toBe('state')
    expect(c.amqpUrl).toBe(record.amqpUrl)
    expect(c.managementUrl).toBe(record.managementUrl)
    expect(c.broker).toBe(record)
  })
  it('falls back to guest on localhost', () => {
    const c = resolveConnection({}, {}, undefined)
    expect(c.amqpUrl).toBe(DEFAULT_AMQP_URL)
    expect(c.source).toBe('default')
    expect(c.managementUrl).toBe('http://guest:guest@localhost:15672')
  })
  it('resolves the management URL on its own chain, borrowing AMQP credentials when it has none', () => {
    expect(
      resolveConnection({managementUrl: 'http://m:9'}, {RABBITMQ_MANAGEMENT_URL: 'http://x:1'}, record).managementUrl,
    ).toBe('http://evt:statepw@m:9')
    expect(resolveConnection({}, {RABBITMQ_MANAGEMENT_URL: 'http://a:b@x:1'}, record).managementSource).toBe('env')
  })
  it('takes the vhost from flag, then EVT_VHOST, then the URL path', () => {
    expect(resolveConnection({vhost: 'a'}, {EVT_VHOST: 'b'}, undefined).vhost).toBe('a')
    expect(resolveConnection({}, {EVT_VHOST: 'b', RABBITMQ_URL: 'amqp://h/c'}, undefined).vhost).toBe('b')
    expect(resolveConnection({}, {RABBITMQ_URL: 'amqp://h/c'}, undefined).vhost).toBe('c')
    expect(resolveConnection({}, {}, undefined).vhost).toBeUndefined()
  })
})
