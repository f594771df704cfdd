import type {TestProject} from 'vitest/node'
import {type Broker, startBroker} from '../../src/broker/index.js'
import {TEST_RUNTIME, testBroker} from './runtime.js'

declare module 'vitest' {
  export interface ProvidedContext {
    amqpUrl: string
    managementUrl: string
    runtime: string
  }
}

let broker: Broker | undefined

/**
 * One private RabbitMQ broker (~6 s to start) shared by the integration files, never the machine's own
 * broker: a local node, or a container with EVT_TEST_RUNTIME=container (image EVT_TEST_IMAGE).
 * EVT_TEST_URL / EVT_TEST_MANAGEMENT_URL point the suite at another broker instead.
 */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.EVT_TEST_URL) {
    project.provide('amqpUrl', process.env.EVT_TEST_URL)
    project.provide('managementUrl', process.env.EVT_TEST_MANAGEMENT_URL ?? '')
    project.provide('runtime', 'external')
    return
  }
  project.provide('runtime', TEST_RUNTIME)
  broker = await startBroker(testBroker('test'))
  project.provide('amqpUrl', broker.amqpUrl)
  project.provide('managementUrl', broker.managementUrl)
}

export async function teardown(): Promise<void> {
  await broker?.stop()
}
