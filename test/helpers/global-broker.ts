import type {TestProject} from 'vitest/node'
import {type Broker, startBroker} from '../../src/broker/index.js'

declare module 'vitest' {
  export interface ProvidedContext {
    amqpUrl: string
    managementUrl: string
  }
}

let broker: Broker | undefined

/**
 * One private RabbitMQ node (~6 s to start) shared by the integration files, never the machine's own
 * broker. EVT_TEST_URL / EVT_TEST_MANAGEMENT_URL point the suite at another broker instead.
 */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.EVT_TEST_URL) {
    project.provide('amqpUrl', process.env.EVT_TEST_URL)
    project.provide('managementUrl', process.env.EVT_TEST_MANAGEMENT_URL ?? '')
    return
  }
  broker = await startBroker({runtime: 'local', name: 'test'})
  project.provide('amqpUrl', broker.amqpUrl)
  project.provide('managementUrl', broker.managementUrl)
}

export async function teardown(): Promise<void> {
  await broker?.stop()
}
