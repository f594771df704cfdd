/** A scenario file (fixtures/scenarios/*.yaml or a user's own) after structural validation. */
export interface ScenarioDefinition {
  name: string
  /** What it proves, in one sentence. */
  summary: string
  seeds: string[]
  typicalSeconds: number
  /**
   * Broker powers it needs: `restart` (graceful), `kill` (SIGKILL), `cluster` (a local cluster evt started,
   * `evt up --nodes 3`), `partition` (packet filtering: iptables as root). Without them it is skipped
   * with the reason.
   */
  requires: BrokerPower[]
  params: Record<string, ParamValue>
  steps: Step[]
  /** The `as` name of a consume step whose deliveries per consumer are compared side by side. */
  compare?: string
  /** Ways to break the scenario's promise, each naming the checks it must fail (`evt scenario --negatives`). */
  negatives: Negative[]
  /** Set on the copy of a scenario that runs one of its negatives. */
  negativeOf?: {index: number}
  /** Where it was loaded from. */
  file: string
}

/**
 * A negative case: parameters that break what the scenario proves, and the checks (as written in the file)
 * that must then fail. Every other check must keep passing, except those in `mayAlsoFail` (a side effect
 * whose verdict depends on timing, e.g. how long a publish stalled).
 */
export interface Negative {
  because: string
  params: Record<string, ParamValue>
  fails: string[]
  mayAlsoFail: string[]
}

export type BrokerPower = 'restart' | 'kill' | 'cluster' | 'partition'
export type ParamValue = string | number | boolean

export const ACTIONS = [
  'declare',
  'publish',
  'consume',
  'get',
  'check-queue',
  'wait',
  'restart-broker',
  'kill-broker',
  'serve',
  'request',
  'run',
  'expect',
  'note',
] as const
export type Action = (typeof ACTIONS)[number]

/** One step: exactly one action key, plus the common keys. Values may hold ${...} templates. */
export interface Step {
  action: Action
  /** The action's spec, unresolved. */
  spec: unknown
  /** Store the step's result under this name for later templates. */
  as?: string
  /** Run the step only when this resolves truthy. */
  when?: unknown
  /** Record a failure of the step as `<as>.error` instead of failing the scenario. */
  captureError?: boolean
  /** Arguments of a `run` code step. */
  with?: Record<string, unknown>
  /** expect: poll for up to this many ms until every check holds (default 10000 when `refresh` is given). */
  within?: number | string
  /** expect: the `as` names of earlier steps re-run before each new look (check-queue, get ...). */
  refresh?: string[]
  /** Where the step is in its file, for messages: steps[3]. */
  path: string
}

export const COMPARATORS = [
  'equals',
  'notEquals',
  'atLeast',
  'atMost',
  'lessThan',
  'greaterThan',
  'matches',
  'sameItems',
] as const
export type Comparator = (typeof COMPARATORS)[number]

export type CheckStatus = 'pass' | 'fail' | 'skip'

export interface CheckResult {
  check: string
  expected: string
  observed: string
  status: CheckStatus
}

/** errored: the scenario could not run to a verdict (its broker failed, or the run was interrupted). */
export type ScenarioStatus = 'passed' | 'failed' | 'skipped' | 'errored'

export interface ScenarioResult {
  name: string
  summary: string
  /** The broker it ran on, when one run covers several (`--name a --name b`). */
  broker?: string
  status: ScenarioStatus
  /** Why it was skipped, or the error that stopped it. */
  reason?: string
  /** An errored scenario's exit code when the error says whose it is: 2 bad input (a step's value), 3 broker unreachable. */
  errorExitCode?: 2 | 3
  seconds: number
  vhost?: string
  params: Record<string, ParamValue>
  checks: CheckResult[]
  notes: string[]
  /** Deliveries per consumer of the `compare` consume step. */
  deliveriesPerConsumer?: number[]
}

export interface ScenarioTotals {
  scenarios: number
  passed: number
  failed: number
  skipped: number
  errored: number
  checks: number
  checksPassed: number
  checksFailed: number
  checksSkipped: number
}

export interface ScenarioReport {
  broker: {runtime: string; url: string; source: BrokerSource}
  /** Runs over several brokers (`--name a --name b`): each of them; every result then names its broker. */
  brokers?: {name: string; runtime: string; url: string; source: BrokerSource}[]
  scenarios: ScenarioResult[]
  totals: ScenarioTotals
  seconds: number
  /** Deliveries per consumer, side by side, when more than one scenario declares `compare`. */
  comparison?: {scenario: string; deliveries: number[]}[]
  /** Set when Ctrl-C/SIGTERM stopped the run: the scenarios listed are the ones that ran (or were running). */
  interrupted?: string
}

/** Where the broker came from: `evt up`'s record, --url/env, or one started for this run. */
export type BrokerSource = 'evt-up' | 'url' | 'throwaway'

export interface ScenarioListing {
  name: string
  summary: string
  typicalSeconds: number
  seeds: string[]
  requires: BrokerPower[]
  file: string
  /** The names of its checks (as written; a template stays a template). */
  checks: string[]
  /** How many negative cases it declares (`evt scenario --negatives`). */
  negatives: number
}
