/**
 * evt as a library: the same modules the CLI uses, for a team's own test suite.
 *
 *   import {startBroker} from 'evt'
 *   const broker = await startBroker({runtime: 'local'})
 *   ...
 *   await broker.stop()
 */

export {connectAmqp} from './amqp/connect.js'
// Broker runtimes
export {attachBroker, RUNTIME_CHOICES, selectRuntime, startBroker} from './broker/index.js'
export {down, up} from './broker/lifecycle.js'
export {amqpAnswers, managementAnswers} from './broker/probe.js'
export type {Broker, BrokerRecord, RuntimeChoice, RuntimeKind, StartOptions, StopOptions} from './broker/types.js'
// Configuration and connections
export {type ConnectionSettings, resolveConnection} from './config/resolve.js'
export {deriveManagementUrl, maskUrl, parseAmqpUrl, withVhost} from './config/url.js'
export {CheckFailedError, EvtError, ExitCode, UnreachableError, UsageError} from './errors.js'
export {ManagementClient} from './management/client.js'
export {brokerStatus} from './status/broker-status.js'

// Topology (provisioning)
export * from './topology/index.js'

// Catalogue and publishing

// Tailing

// Scenarios

// Benchmarks
