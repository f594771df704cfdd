import {describe, expect, it} from 'vitest'
import {
  buildAmqpUrl,
  buildManagementUrl,
  deriveManagementUrl,
  maskUrl,
  maskUrlsIn,
  parseAmqpUrl,
  splitHttpCredentials,
  withVhost,
} from '../../../src/config/url.js'

describe('maskUrl', () => {
  it('hides the password and keeps the user', () => {
    expect(maskUrl('amqp://app:s3cr3t@broker:5672/orders')).toBe('amqp://app:****@broker:5672/orders')
  })
  it('leaves a URL without a password alone', () => {
    expect(maskUrl('http://127.0.0.1:15672')).toBe('http://127.0.0.1:15672')
  })
  it('hides secrets in query parameters', () => {
    expect(maskUrl('amqp://h/?password=x&heartbeat=10')).toBe('amqp://h/?password=****&heartbeat=10')
  })
  it('masks what it cannot parse', () => {
    expect(maskUrl('amqp://u:p@@@')).not.toContain(':p@')
  })
  it('masks every URL inside a message', () => {
    const text = maskUrlsIn('failed to reach amqp://a:hunter2@x:1 and http://b:pw@y:2/api')
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain(':pw@')
  })
})

describe('parseAmqpUrl / buildAmqpUrl', () => {
  it('reads the parts and defaults guest/guest and port 5672', () => {
    expect(parseAmqpUrl('amqp://localhost')).toEqual({
      protocol: 'amqp',
      host: 'localhost',
      port: 5672,
      username: 'guest',
      password: 'guest',
      vhost: undefined,
    })
  })
  it('decodes an encoded vhost such as %2F', () => {
    expect(parseAmqpUrl('amqp://u:p@h:1/%2F').vhost).toBe('/')
  })
  it('round-trips special characters in credentials', () => {
    const url = buildAmqpUrl({protocol: 'amqp', host: 'h', port: 1, username: 'a@b', password: 'p:w/d', vhost: 'v 1'})
    expect(parseAmqpUrl(url)).toMatchObject({username: 'a@b', password: 'p:w/d', vhost: 'v 1'})
  })
  it('refuses a non-AMQP URL', () => {
    expect(() => parseAmqpUrl('http://x')).toThrow(/not an AMQP URL/)
  })
  it('points a URL at another vhost', () => {
    expect(withVhost('amqp://u:p@h:5672/a', 'b')).toBe('amqp://u:p@h:5672/b')
    expect(withVhost('amqp://u:p@h:5672/a', undefined)).toBe('amqp://u:p@h:5672')
  })
})

describe('deriveManagementUrl', () => {
  it('uses 15672 for the standard port and carries the credentials', () => {
    expect(deriveManagementUrl('amqp://u:p@rabbit:5672/v')).toBe('http://u:p@rabbit:15672')
  })
  it('adds 10000 to another port', () => {
    expect(deriveManagementUrl('amqp://u:p@h:5673')).toBe('http://u:p@h:15673')
  })
  it('splits credentials out for fetch', () => {
    expect(splitHttpCredentials('http://u:p%40ss@h:15672/')).toEqual({
      baseUrl: 'http://h:15672',
      username: 'u',
      password: 'p@ss',
    })
  })
})

describe('buildManagementUrl', () => {
  it('escapes the credentials and brackets an IPv6 host', () => {
    expect(buildManagementUrl({host: '127.0.0.1', port: 15672, username: 'a@b', password: 'p:w/d'})).toBe(
      'http://a%40b:p%3Aw%2Fd@127.0.0.1:15672',
    )
    expect(buildManagementUrl({host: '::1', port: 1, username: 'u', password: 'p'})).toBe('http://u:p@[::1]:1')
  })
})
