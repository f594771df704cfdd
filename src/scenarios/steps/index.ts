import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'
import {
  awaitQuorum,
  ledgerStart,
  ledgerStop,
  ledgerWait,
  nodeFaultStep,
  nodeProbe,
  queueProbe,
  rollingRestart,
} from './cluster.js'
import {permissionProbe} from './permission-probe.js'
import {publishThroughKill} from './publish-through-kill.js'
import {retryBackoff} from './retry-backoff.js'
import {topologyCheck} from './topology-check.js'

export type CodeStep = (ctx: ScenarioContext, args: Spec) => Promise<unknown>

/** The behaviours a data file cannot express, each small and named (`run: <name>` in a scenario file). */
export const codeSteps: Record<string, CodeStep> = {
  'retry-backoff': retryBackoff,
  'permission-probe': permissionProbe,
  'publish-through-kill': publishThroughKill,
  'topology-check': topologyCheck,
  'ledger-start': ledgerStart,
  'ledger-stop': ledgerStop,
  'ledger-wait': ledgerWait,
  'node-fault': nodeFaultStep,
  'rolling-restart': rollingRestart,
  'await-quorum': awaitQuorum,
  'node-probe': nodeProbe,
  'queue-probe': queueProbe,
}
