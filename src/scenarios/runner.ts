import {randomBytes} from 'node:crypto'
import type {Broker} from '../broker/types.js'
import {maskUrl} from '../config/url.js'
import {UnreachableError, UsageError} from '../errors.js'
import {ManagementClient} from '../management/client.js'
import {ScenarioContext} from './context.js'
import {evaluateCheck} from './expect.js'
import {applyParams} from './load.js'
import {Spec} from './spec.js'
import * as basic from './steps/basic.js'
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

export interface RunOptions {
  broker: Broker
  source?: BrokerSource
  /** Parameter overrides (--messages, --consumers, --kill, --param k=v), typed by each scenario's defaults. */
  overrides?: Record<string, string | number | boolean>
  /** After the runner restarted the broker (to write the `evt up` record back). */
  onRestart?: (broker: Broker) => Promise<void>
  /** Progress lines for a person (stderr in the CLI): each scenario as it starts, and steps that take seconds. */
  onProgress?: (line: string) => void
}

/** Run one scenario in its own throwaway vhost, which is removed afterwards whatever happens. */
export async function runScenario(def: ScenarioDefinition, options: RunOptions): Promise<ScenarioResult> {
  const started = Date.now()
  const params = applyParams(def, options.overrides ?? {})
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
  if (def.requires.length > 0 && !broker.canRestart) {
    result.status = 'skipped'
    result.reason = `needs to ${def.requires.join(' and ')} the broker, and the ${broker.runtime} broker at ${maskUrl(
      broker.amqpUrl,
    )} is not one evt started`
    return result
  }
  const api = new ManagementClient(broker.managementUrl)
  const vhost = `evt-scn-${def.name}-${randomBytes(3).toString('hex')}`
  result.vhost = vhost
  await api.createVhost(vhost)
  const ctx = new ScenarioContext(broker, api, vhost, params, options.onRestart)
  try {
    for (const step of def.steps) {
      if (step.when !== undefined && !truthy(resolve(step.when, ctx.vars, `${step.path}.when`))) continue
      const slow = SLOW_STEPS[step.action === 'run' ? String(step.spec) : step.action]
      if (slow) options.onProgress?.(`  ${def.name}: ${slow} ...`)
      try {
        const value = await runStep(ctx, step)
        if (step.as) ctx.vars[step.as] = step.captureError ? {...asObject(value), error: null} : value
      } catch (err) {
        if (err instanceof UsageError || err instanceof UnreachableError) throw err
        const message = err instanceof Error ? err.message : String(err)
        if (step.captureError && step.as) {
          ctx.vars[step.as] = {error: message}
          continue
        }
        throw new StepFailed(`${step.path} ${step.action}: ${message}`)
      }
    }
  } catch (err) {
    if (!(err instanceof StepFailed)) throw err
    result.reason = err.message
    ctx.checks.push({check: 'the scenario ran to the end', expected: 'no error', observed: err.message, status: 'fail'})
  } finally {
    await ctx.disconnect()
    await api.deleteVhost(vhost).catch(() => {})
    result.checks = ctx.checks
    result.notes = ctx.notes
    result.seconds = (Date.now() - started) / 1000
  }
  if (def.compare) {
    const compared = ctx.vars[def.compare] as {perConsumer?: number[]} | undefined
    if (compared?.perConsumer) result.deliveriesPerConsumer = compared.perConsumer
  }
  result.status = result.checks.some((c) => c.status === 'fail') ? 'failed' : 'passed'
  return result
}

class StepFailed extends Error {}

/** Steps that take seconds get a progress line. */
const SLOW_STEPS: Record<string, string> = {
  'restart-broker': 'restarting the broker',
  'kill-broker': 'killing the broker (SIGKILL) and starting it again',
  'publish-through-kill': 'publishing while the broker is killed (SIGKILL) and started again',
  'topology-check': 'copying the topology and routing one event of each type',
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

async function runStep(ctx: ScenarioContext, step: Step): Promise<unknown> {
  const where = `${step.path}.${step.action}`
  if (step.action === 'expect') {
    for (const [i, raw] of (step.spec as Record<string, unknown>[]).entries()) {
      const at = `${where}[${i}]`
      if (raw.when !== undefined && !truthy(resolve(raw.when, ctx.vars, `${at}.when`))) continue
      let check: Record<string, unknown>
      try {
        check = resolve(raw, ctx.vars, at) as Record<string, unknown>
      } catch (err) {
        ctx.checks.push(unobserved(raw, ctx.vars, at, err as Error))
        continue
      }
      ctx.checks.push(evaluateCheck(check))
    }
    return undefined
  }
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
    case 'wait': {
      const ms = typeof resolved === 'object' ? Spec.of(resolved, where).num('ms') : Number(resolved)
      if (!Number.isFinite(ms)) throw new UsageError(`${where}: milliseconds to wait`)
      await new Promise((r) => setTimeout(r, ms))
      return {ms}
    }
    case 'restart-broker':
      return {seconds: await ctx.restartBroker('restart')}
    case 'kill-broker':
      return {seconds: await ctx.restartBroker('kill')}
    default:
      throw new UsageError(`${where}: unknown step`)
  }
}

/** Run scenarios one after another on one broker and total them up. */
export async function runScenarios(defs: ScenarioDefinition[], options: RunOptions): Promise<ScenarioReport> {
  const started = Date.now()
  const known = new Set(defs.flatMap((d) => Object.keys(d.params)))
  for (const key of Object.keys(options.overrides ?? {})) {
    if (!known.has(key)) {
      throw new UsageError(
        `no selected scenario has a parameter "${key}"`,
        `Parameters: ${[...known].sort().join(', ') || '(none)'}`,
      )
    }
  }
  const scenarios: ScenarioResult[] = []
  for (const def of defs) {
    options.onProgress?.(`Running ${def.name} ...`)
    scenarios.push(await runScenario(def, options))
  }
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
  }
}

export function totals(scenarios: ScenarioResult[]): ScenarioTotals {
  const checks = scenarios.flatMap((s) => s.checks)
  return {
    scenarios: scenarios.length,
    passed: scenarios.filter((s) => s.status === 'passed').length,
    failed: scenarios.filter((s) => s.status === 'failed').length,
    skipped: scenarios.filter((s) => s.status === 'skipped').length,
    checks: checks.length,
    checksPassed: checks.filter((c) => c.status === 'pass').length,
    checksFailed: checks.filter((c) => c.status === 'fail').length,
    checksSkipped: checks.filter((c) => c.status === 'skip').length,
  }
}

/** 0 when every scenario passed or was skipped, 1 when any check failed. */
export function reportExitCode(report: ScenarioReport): 0 | 1 {
  return report.totals.failed > 0 ? 1 : 0
}
