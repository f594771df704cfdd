import {ClusterBroker} from '../broker/cluster-base.js'
import type {Broker} from '../broker/types.js'
import {maskUrl} from '../config/url.js'
import {EvtError, UsageError} from '../errors.js'
import {ManagementClient} from '../management/client.js'
import {Deadline, sleep} from '../util/time.js'
import {ScenarioContext} from './context.js'
import {evaluateCheck} from './expect.js'
import {applyParams} from './load.js'
import {judgeNegative, negativeName} from './negatives.js'
import {Spec} from './spec.js'
import * as basic from './steps/basic.js'
import {cleanupCluster} from './steps/cluster.js'
import * as rpc from './steps/rpc.js'
import {resolve, show, truthy} from './template.js'
import type {
  BrokerSource,
  CheckResult,
  ParamValue,
  ScenarioDefinition,
  ScenarioReport,
  ScenarioResult,
  ScenarioTotals,
  Step,
} from './types.js'
import {versionMatches} from './version.js'
import {scenarioVhost, sweepLeftoverVhosts} from './vhosts.js'

export interface RunOptions {
  broker: Broker
  source?: BrokerSource
  /** Parameter overrides (--messages, --consumers, --kill, --param k=v), typed by each scenario's defaults. */
  overrides?: Record<string, string | number | boolean>
  /** After the runner restarted the broker (to write the `evt up` record back). */
  onRestart?: (broker: Broker) => Promise<void>
  /** Progress lines for a person (stderr in the CLI): each scenario as it starts, and steps that take seconds. */
  onProgress?: (line: string) => void
  /** Each scenario's result as soon as it is known (results stream; the report comes at the end). */
  onResult?: (result: ScenarioResult) => void
  /** Ctrl-C: the running steps stop at their next look, cleanup runs, a restart in progress finishes. */
  signal?: AbortSignal
  /** Scenarios that do not restart the broker run this many at a time, each in its own vhost (default 6). */
  concurrency?: number
  /** The broker's version, when the caller knows it (otherwise asked once per run). */
  brokerVersion?: string
}

/** How long an `expect` with `refresh` keeps looking before it settles for a FAIL. */
export const DEFAULT_WITHIN_MS = 10_000

/** Run one scenario in its own throwaway vhost, which is removed afterwards whatever happens. */
export async function runScenario(def: ScenarioDefinition, options: RunOptions): Promise<ScenarioResult> {
  const started = Date.now()
  // A negative run: the case's parameters win over the command line's.
  const negative = def.negativeOf ? def.negatives[def.negativeOf.index] : undefined
  const params = applyParams(def, {...options.overrides, ...negative?.params})
  // A default may name another parameter (subscriberQueues: ${params.consumers}).
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string' && value.includes('${'))
      params[key] = resolve(value, {params}, `params.${key}`) as ParamValue
  }
  const result: ScenarioResult = {
    name: def.name,
    summary: def.summary,
    status: 'passed',
    seconds: 0,
    params,
    checks: [],
    notes: [],
  }
  const broker = options.broker
  if (def.requires.includes('cluster') && !(broker instanceof ClusterBroker)) {
    result.status = 'skipped'
    result.reason = `needs a cluster evt started (\`evt up --nodes 3\`); the ${broker.runtime} broker at ${maskUrl(
      broker.amqpUrl,
    )} is a single node`
    return result
  }
  if (def.requires.includes('partition')) {
    const {canPartition} = await import('../faults/partition.js')
    if (!(await canPartition())) {
      result.status = 'skipped'
      result.reason = 'needs packet filtering to cut a node off (iptables, as root), which is not available here'
      return result
    }
  }
  if (def.requires.length > 0 && !broker.canRestart) {
    result.status = 'skipped'
    result.reason = `needs to ${def.requires.join(' and ')} the broker, and the ${broker.runtime} broker at ${maskUrl(
      broker.amqpUrl,
    )} is not one evt started`
    return result
  }
  if (options.signal?.aborted) return errored(result, interruptedReason(options.signal), started)
  // A cluster with node 1 down or cut off is managed through a node that answers.
  const api = broker instanceof ClusterBroker ? await broker.api() : new ManagementClient(broker.managementUrl)
  const vhost = scenarioVhost(def.name)
  let ctx: ScenarioContext | undefined
  try {
    const version = options.brokerVersion ?? (await api.overview()).rabbitmq_version
    result.vhost = vhost
    await api.createVhost(vhost)
    ctx = new ScenarioContext(broker, api, vhost, params, options.onRestart, options.signal)
    ctx.vars.rabbitmq = {version}
    await runSteps(def, ctx, options)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if (err instanceof StepFailed) {
      result.reason = message
      ctx?.checks.push({check: 'the scenario ran to the end', expected: 'no error', observed: message, status: 'fail'})
    } else {
      // The broker went away, the run was interrupted, or the file is wrong: no verdict, an error.
      result.status = 'errored'
      result.reason = options.signal?.aborted ? interruptedReason(options.signal) : message
      if (!options.signal?.aborted) result.errorExitCode = errorExitCodeOf(err)
    }
  } finally {
    if (ctx) await cleanupCluster(ctx)
    await ctx?.disconnect()
    if (result.vhost) await api.deleteVhost(vhost).catch(() => {})
    result.checks = ctx?.checks ?? []
    result.notes = ctx?.notes ?? []
    result.seconds = (Date.now() - started) / 1000
  }
  if (def.compare && ctx) {
    const compared = ctx.vars[def.compare] as {perConsumer?: number[]} | undefined
    if (compared?.perConsumer) result.deliveriesPerConsumer = compared.perConsumer
  }
  if (result.status !== 'errored') result.status = result.checks.some((c) => c.status === 'fail') ? 'failed' : 'passed'
  return result
}

function errored(result: ScenarioResult, reason: string, started: number): ScenarioResult {
  result.status = 'errored'
  result.reason = reason
  result.seconds = (Date.now() - started) / 1000
  return result
}

function interruptedReason(signal: AbortSignal): string {
  const reason = signal.reason
  return reason instanceof Error ? reason.message : 'interrupted'
}

async function runSteps(def: ScenarioDefinition, ctx: ScenarioContext, options: RunOptions): Promise<void> {
  const byName = new Map<string, Step>()
  for (const step of def.steps) {
    if (options.signal?.aborted) throw new Error(interruptedReason(options.signal))
    if (step.as) byName.set(step.as, step)
    if (!condition(step.when, ctx.vars, `${step.path}.when`)) continue
    const slow = SLOW_STEPS[step.action === 'run' ? String(step.spec) : step.action]
    if (slow) options.onProgress?.(`  ${def.name}: ${slow} ...`)
    if (step.action === 'expect') {
      await expectStep(ctx, step, byName, options.signal)
      continue
    }
    await runAndStore(ctx, step)
  }
}

async function runAndStore(ctx: ScenarioContext, step: Step): Promise<void> {
  try {
    const value = await runStep(ctx, step)
    if (step.as) ctx.vars[step.as] = step.captureError ? {...asObject(value), error: null} : value
  } catch (err) {
    if (ctx.signal?.aborted) throw err
    if (!(err instanceof Error) || err instanceof UsageError || isBrokerGone(err)) throw err
    if (step.captureError && step.as) {
      ctx.vars[step.as] = {error: err.message}
      return
    }
    throw new StepFailed(`${step.path} ${step.action}: ${err.message}`)
  }
}

/** A failure of the broker itself (connection refused, management API down) is an error, not a verdict. */
function isBrokerGone(err: Error): boolean {
  return err.name === 'UnreachableError' || /ECONNREFUSED|ECONNRESET|socket hang up/.test(err.message)
}

/** `when:` a template that resolves truthy, or `{rabbitmq: ">=4.3"}` (the broker's version). */
export function condition(when: unknown, vars: Record<string, unknown>, where: string): boolean {
  if (when === undefined) return true
  if (when && typeof when === 'object' && !Array.isArray(when) && 'rabbitmq' in when) {
    const version = (vars.rabbitmq as {version?: string} | undefined)?.version ?? ''
    return versionMatches(version, String((when as {rabbitmq: unknown}).rabbitmq))
  }
  return truthy(resolve(when, vars, where))
}

class StepFailed extends Error {}

/** Steps that take seconds get a progress line. */
const SLOW_STEPS: Record<string, string> = {
  'restart-broker': 'restarting the broker',
  'kill-broker': 'killing the broker (SIGKILL) and starting it again',
  'publish-through-kill': 'publishing while the broker is killed (SIGKILL) and started again',
  'topology-check': 'copying the topology and routing one event of each type',
  'node-fault': 'a fault on a cluster node',
  'rolling-restart': 'restarting every cluster node in turn',
  'ledger-stop': 'stopping the load and draining the queue',
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {value}
}

/** A check whose observed value an earlier step did not produce (no message to read a header from) fails. */
function unobserved(raw: Record<string, unknown>, vars: Record<string, unknown>, at: string, err: Error): CheckResult {
  const attempt = <T>(f: () => T, fallback: T): T => {
    try {
      return f()
    } catch {
      return fallback
    }
  }
  return {
    check: attempt(() => show(resolve(raw.check, vars, at)), String(raw.check)),
    expected: attempt(
      () => evaluateCheck(resolve({...raw, observed: null}, vars, at) as typeof raw).expected,
      'a value',
    ),
    observed: `(not observed: ${err.message.replace(/^[^$]*: (?=\$\{)/, '')})`,
    status: 'fail',
  }
}

/** Evaluate every check of an expect step once against the variables as they are now. */
function evaluateChecks(ctx: ScenarioContext, step: Step): CheckResult[] {
  const where = `${step.path}.expect`
  const out: CheckResult[] = []
  for (const [i, raw] of (step.spec as Record<string, unknown>[]).entries()) {
    const at = `${where}[${i}]`
    if (!condition(raw.when, ctx.vars, `${at}.when`)) continue
    const {skipWhen, because, ...rest} = raw
    if (skipWhen !== undefined && truthy(resolve(skipWhen, ctx.vars, `${at}.skipWhen`))) {
      out.push({
        check: show(resolve(raw.check, ctx.vars, at)),
        expected: '(skipped)',
        observed: show(resolve(because ?? 'skipped', ctx.vars, `${at}.because`)),
        status: 'skip',
      })
      continue
    }
    try {
      out.push(evaluateCheck(resolve(rest, ctx.vars, at) as Record<string, unknown>))
    } catch (err) {
      out.push(unobserved(rest, ctx.vars, at, err as Error))
    }
  }
  return out
}

/**
 * expect: every check is looked at; with `refresh`, the named earlier steps are run again and the checks
 * looked at again until all hold or `within` ms pass (eventually, not after a fixed sleep).
 */
async function expectStep(
  ctx: ScenarioContext,
  step: Step,
  byName: Map<string, Step>,
  signal?: AbortSignal,
): Promise<void> {
  const refresh = step.refresh ?? []
  const within = step.within === undefined ? undefined : Number(resolve(step.within, ctx.vars, `${step.path}.within`))
  if (within !== undefined && !(within >= 0))
    throw new UsageError(`${step.path}.within: milliseconds (got ${show(within)})`)
  const deadline = new Deadline(within ?? (refresh.length > 0 ? DEFAULT_WITHIN_MS : 0))
  let interval = 20
  for (;;) {
    const results = evaluateChecks(ctx, step)
    if (results.every((r) => r.status !== 'fail') || refresh.length === 0 || deadline.passed() || signal?.aborted) {
      ctx.checks.push(...results)
      return
    }
    await sleep(Math.min(interval, deadline.remaining()))
    interval = Math.min(interval * 2, 250)
    for (const name of refresh) {
      const again = byName.get(name)
      if (!again) throw new UsageError(`${step.path}.refresh: no earlier step is named "${name}"`)
      if (condition(again.when, ctx.vars, `${again.path}.when`)) await runAndStore(ctx, again)
    }
  }
}

async function runStep(ctx: ScenarioContext, step: Step): Promise<unknown> {
  const where = `${step.path}.${step.action}`
  if (step.action === 'note') {
    ctx.notes.push(show(resolve(step.spec, ctx.vars, where)))
    return undefined
  }
  if (step.action === 'run') {
    const {codeSteps} = await import('./steps/index.js')
    const args = Spec.of(resolve(step.with ?? {}, ctx.vars, `${step.path}.with`), `${step.path}.with`)
    return codeSteps[step.spec as string](ctx, args)
  }
  const resolved = resolve(step.spec, ctx.vars, where)
  switch (step.action) {
    case 'declare':
      return basic.declare(ctx, Spec.of(resolved, where))
    case 'publish':
      return basic.publish(ctx, Spec.of(resolved, where))
    case 'consume':
      return basic.consume(ctx, Spec.of(resolved, where))
    case 'get':
      return basic.get(ctx, Spec.of(resolved, where))
    case 'check-queue':
      return basic.checkQueue(ctx, Spec.of(resolved, where))
    case 'serve':
      return rpc.serve(ctx, Spec.of(resolved, where))
    case 'request':
      return rpc.request(ctx, Spec.of(resolved, where))
    case 'wait': {
      const ms = typeof resolved === 'object' ? Spec.of(resolved, where).num('ms') : Number(resolved)
      if (!Number.isFinite(ms)) throw new UsageError(`${where}: milliseconds to wait`)
      await sleep(ms, ctx.signal)
      return {ms}
    }
    case 'restart-broker': {
      const how = resolved && typeof resolved === 'object' ? Spec.of(resolved, where).str('how', 'node') : 'node'
      if (how !== 'node' && how !== 'app') throw new UsageError(`${where}: how: node or app (got ${how})`)
      return ctx.restartBroker(how)
    }
    case 'kill-broker':
      return ctx.restartBroker('kill')
    default:
      throw new UsageError(`${where}: unknown step`)
  }
}

/** Check --param names against the selected scenarios' parameters. */
export function checkOverrides(defs: ScenarioDefinition[], overrides: Record<string, unknown>): void {
  const known = new Set(defs.flatMap((d) => Object.keys(d.params)))
  for (const key of Object.keys(overrides)) {
    if (!known.has(key)) {
      throw new UsageError(
        `no selected scenario has a parameter "${key}"`,
        `Parameters: ${[...known].sort().join(', ') || '(none)'}`,
      )
    }
  }
}

/**
 * Run scenarios on one broker and total them up. Scenarios that do not restart or kill the broker run
 * concurrently (each in its own vhost); the ones that do run afterwards, one at a time. One scenario's
 * error (its broker went away) does not stop the others; an interrupt stops the run after cleanup.
 */
export async function runScenarios(defs: ScenarioDefinition[], options: RunOptions): Promise<ScenarioReport> {
  const started = Date.now()
  checkOverrides(defs, options.overrides ?? {})
  const api = new ManagementClient(options.broker.managementUrl)
  await sweepLeftoverVhosts(api).catch(() => 0)
  const brokerVersion =
    options.brokerVersion ??
    (await api
      .overview()
      .then((o) => o.rabbitmq_version)
      .catch(() => undefined))
  const results = new Map<ScenarioDefinition, ScenarioResult>()
  const one = async (def: ScenarioDefinition) => {
    options.onProgress?.(`Running ${def.negativeOf ? negativeName(def, def.negativeOf.index) : def.name} ...`)
    let r: ScenarioResult
    try {
      r = await runScenario(def, {...options, brokerVersion})
      if (def.negativeOf) r = judgeNegative(def, def.negativeOf.index, r)
    } catch (err) {
      if (err instanceof UsageError && !options.signal?.aborted) throw err
      r = {
        name: def.negativeOf ? negativeName(def, def.negativeOf.index) : def.name,
        summary: def.summary,
        status: 'errored',
        reason: err instanceof Error ? err.message : String(err),
        seconds: 0,
        params: def.params,
        checks: [],
        notes: [],
        // A broker that stops answering before the scenario starts is exit 3, not a failed check.
        errorExitCode: options.signal?.aborted ? undefined : errorExitCodeOf(err),
      }
    }
    results.set(def, r)
    options.onResult?.(r)
  }
  const parallel = defs.filter((d) => d.requires.length === 0)
  const serial = defs.filter((d) => d.requires.length > 0)
  await pool(parallel, Math.max(1, options.concurrency ?? 6), one, options.signal)
  for (const def of serial) {
    if (options.signal?.aborted) break
    await one(def)
  }
  const scenarios = defs.flatMap((d) => {
    const r = results.get(d)
    return r ? [r] : []
  })
  const compared = scenarios.filter((s) => s.deliveriesPerConsumer)
  return {
    broker: {runtime: options.broker.runtime, url: maskUrl(options.broker.amqpUrl), source: options.source ?? 'url'},
    scenarios,
    totals: totals(scenarios),
    seconds: (Date.now() - started) / 1000,
    comparison:
      compared.length > 1
        ? compared.map((s) => ({scenario: s.name, deliveries: s.deliveriesPerConsumer as number[]}))
        : undefined,
    interrupted: options.signal?.aborted ? interruptedReason(options.signal) : undefined,
  }
}

/** Run `work` over items, at most `limit` at a time; no new item starts after an abort. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>, signal?: AbortSignal) {
  let next = 0
  const lanes = Array.from({length: Math.min(limit, items.length)}, async () => {
    while (next < items.length && !signal?.aborted) await work(items[next++])
  })
  await Promise.all(lanes)
}

export function totals(scenarios: ScenarioResult[]): ScenarioTotals {
  const checks = scenarios.flatMap((s) => s.checks)
  return {
    scenarios: scenarios.length,
    passed: scenarios.filter((s) => s.status === 'passed').length,
    failed: scenarios.filter((s) => s.status === 'failed').length,
    skipped: scenarios.filter((s) => s.status === 'skipped').length,
    errored: scenarios.filter((s) => s.status === 'errored').length,
    checks: checks.length,
    checksPassed: checks.filter((c) => c.status === 'pass').length,
    checksFailed: checks.filter((c) => c.status === 'fail').length,
    checksSkipped: checks.filter((c) => c.status === 'skip').length,
  }
}

/** The exit code an error that left a scenario without a verdict stands for: 2 bad input, 3 broker gone. */
function errorExitCodeOf(err: unknown): 2 | 3 | undefined {
  if (err instanceof EvtError && (err.exitCode === 2 || err.exitCode === 3)) return err.exitCode
  if (err instanceof Error && isBrokerGone(err)) return 3
  return undefined
}

/**
 * 0 when every scenario passed (or was skipped, unless failOnSkip, or a check was skipped), 1 when a
 * check failed or a scenario could not run to a verdict; 2 or 3 when one errored on bad input (a step's
 * value) or an unreachable broker, since then there is no verdict to give.
 */
export function reportExitCode(report: ScenarioReport, options: {failOnSkip?: boolean} = {}): 0 | 1 | 2 | 3 {
  const t = report.totals
  const codes = report.scenarios.map((s) => s.errorExitCode ?? 0)
  if (codes.includes(2)) return 2
  if (codes.includes(3)) return 3
  if (t.failed > 0 || t.errored > 0) return 1
  if (options.failOnSkip && (t.skipped > 0 || t.checksSkipped > 0)) return 1
  return 0
}
