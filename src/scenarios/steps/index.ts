import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'
import {permissionProbe} from './permission-probe.js'
import {publishThroughKill} from './publish-through-kill.js'
import {retryBackoff} from './retry-backoff.js'
import {rpcRoundtrip} from './rpc-roundtrip.js'
import {topologyCheck} from './topology-check.js'

export type CodeStep = (ctx: ScenarioContext, args: Spec) => Promise<unknown>

/** The behaviours a data file cannot express, each small and named (`run: <name>` in a scenario file). */
export const codeSteps: Record<string, CodeStep> = {
  'rpc-roundtrip': rpcRoundtrip,
  'retry-backoff': retryBackoff,
  'permission-probe': permissionProbe,
  'publish-through-kill': publishThroughKill,
  'topology-check': topologyCheck,
}
