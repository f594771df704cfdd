import {randomBytes} from 'node:crypto'
import {inject} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import {deriveManagementUrl, withVhost} from '../../src/config/url.js'
import {ManagementClient} from '../../src/management/client.js'

export interface TestVhost {
  vhost: string
  /** AMQP URL pointed at the vhost. */
  amqpUrl: string
  /** AMQP URL of the broker (default vhost). */
  brokerUrl: string
  managementUrl: string
  api: ManagementClient
  cleanup: () => Promise<void>
}

/** The shared test broker started by global-broker.ts. */
export function sharedBroker(): {amqpUrl: string; managementUrl: string} {
  const amqpUrl = inject('amqpUrl')
  const managementUrl = inject('managementUrl') || deriveManagementUrl(amqpUrl)
  return {amqpUrl, managementUrl}
}

/** A fresh vhost on the shared broker, so test files never see each other's queues. */
export async function createTestVhost(prefix = 'test'): Promise<TestVhost> {
  const {amqpUrl, managementUrl} = sharedBroker()
  const api = new ManagementClient(managementUrl)
  const vhost = `${prefix}-${randomBytes(4).toString('hex')}`
  await api.createVhost(vhost)
  return {
    vhost,
    amqpUrl: withVhost(amqpUrl, vhost),
    brokerUrl: amqpUrl,
    managementUrl,
    api,
    cleanup: () => api.deleteVhost(vhost),
  }
}

export {connectAmqp}
