/**
 * evt as a library: the same modules the CLI uses, for a team's own test suite.
 *
 *   import {startBroker} from 'evt-rabbitmq'
 *   const broker = await startBroker({runtime: 'local'})
 *   ...
 *   await broker.stop()
 */

// Broker runtimes
export {attachBroker, RUNTIME_CHOICES, selectRuntime, startBroker} from './broker/index.js'
export {down, up} from './broker/lifecycle.js'
export {amqpAnswers, managementAnswers} from './broker/probe.js'
export type {Broker, BrokerRecord, RuntimeChoice, RuntimeKind, StartOptions, StopOptions} from './broker/types.js'
// Configuration and connections
export {connectAmqp} from './amqp/connect.js'
export {type ConnectionSettings, resolveConnection} from './config/resolve.js'
export {deriveManagementUrl, maskUrl, parseAmqpUrl, withVhost} from './config/url.js'
export {CheckFailedError, EvtError, ExitCode, UnreachableError, UsageError} from './errors.js'
export {ManagementClient} from './management/client.js'
export {brokerStatus} from './status/broker-status.js'

// Topology (provisioning)
export {
  countPlan,
  type Definitions,
  exportDefinitions,
  fixtureTopologyFiles,
  loadDefinitionsFiles,
  loadTopology,
  type PlanCounts,
  type PlanItem,
  planDefinitions,
  type ProvisionOptions,
  type ProvisionResult,
  type ProvisionSummary,
  provision,
  readDefinitionsFiles,
  routeMessage,
  topicMatches,
} from './topology/index.js'

// Catalogue and publishing
export {type Catalogue, createCatalogue, eventsDir, loadCatalogue} from './catalogue/catalogue.js'
export {describeEventType, type EventTypeDetails, type EventTypeInfo, listEventTypes} from './catalogue/describe.js'
export {
  type AmqpPublishProperties,
  EventFactory,
  type FactoryOptions,
  fillRoutingKey,
  type GeneratedEvent,
  type GenerateOptions,
  generateEvent,
  type Overrides,
  SEEDED_EPOCH,
} from './catalogue/generate.js'
export type {EnvelopeKind, EventType, SchemaNode} from './catalogue/types.js'
export {dataValidator} from './catalogue/validate.js'
export {
  type PublishEventsOptions,
  type PublishProgress,
  type PublishSummary,
  publishEvents,
  type TypePublishSummary,
} from './publish/publisher.js'
export {type RecordedMessage, type ReplayOptions, readRecording, replayRecording} from './publish/replay.js'
export {createProgress, type ProgressBar, type ProgressOptions} from './ui/progress.js'

// Tailing
export {
  compileRoutingFilter,
  compileWhere,
  decodeBody,
  formatSummary,
  hexDump,
  ndjsonLine,
  type OutputMode,
  prettyLine,
  type ResolvedTarget,
  resolveTargets,
  type StartTailOptions,
  type StopReason,
  startTail,
  TailSession,
  type TailSummary,
  type TapPlan,
  type TargetRequest,
  unwrapTrace,
} from './tail/index.js'

// Scenarios
export {scenarioJunit, writeScenarioJunit} from './scenarios/junit.js'
export {formatScenarioList, formatScenarioReport} from './scenarios/report.js'
export {acquireScenarioBroker, type ScenarioBroker, withScenarioBroker} from './scenarios/broker.js'
export {
  applyParams,
  BUILTIN_DIR as BUILTIN_SCENARIOS_DIR,
  listScenarios,
  loadBuiltinScenarios,
  loadScenarioFile,
  parseScenario,
  selectScenarios,
} from './scenarios/load.js'
export {type RunOptions as ScenarioRunOptions, reportExitCode, runScenario, runScenarios} from './scenarios/runner.js'
export type {
  CheckResult,
  ScenarioDefinition,
  ScenarioListing,
  ScenarioReport,
  ScenarioResult,
  ScenarioTotals,
} from './scenarios/types.js'

// Benchmarks
export {
  type BenchExpectations,
  type BenchOptions,
  validateBenchOptions,
  validateExpectations,
} from './bench/options.js'
export {formatBenchReport} from './bench/report.js'
export {type BenchReport, type BenchSample, type BenchTarget, runBench} from './bench/run.js'
export {LatencyRecorder, type LatencySummary} from './bench/stats.js'
export {evaluateThresholds, type ThresholdResult} from './bench/thresholds.js'
