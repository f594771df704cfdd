import {describe, expect, it} from 'vitest'
import {formatStatus} from '../../src/status/report.js'

describe('evt status', () => {
  it("marks evt tail's tap queues as evt's", () => {
    const text = formatStatus({
      runtime: 'local',
      source: 'state',
      node: 'n',
      version: '3.13',
      erlangVersion: '26',
      amqpUrl: 'amqp://h',
      managementUrl: 'http://h',
      vhosts: ['/'],
      queues: [
        {vhost: '/', name: 'evt.tap.0a1b2c3d4e5f', type: 'classic', durable: false, ready: 0, unacked: 0, consumers: 1},
        {vhost: '/', name: 'orders', type: 'classic', durable: true, ready: 0, unacked: 0, consumers: 1},
      ],
    })
    expect(text).toContain('evt.tap.0a1b2c3d4e5f (evt tail)')
    expect(text).not.toContain('orders (evt tail)')
  })
})
