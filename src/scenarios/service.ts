import {access, constants, stat} from 'node:fs/promises'
import {dirname, resolve as resolvePath} from 'node:path'
import type {RuntimeChoice} from '../broker/types.js'
import {acquireLease, brokerLeaseDir, describeHolders} from '../config/lease.js'
import type {ConnectionSettings} from '../config/resolve.js'
import {UsageError} from '../errors.js'
import {InterruptedError, SIGNAL_EXIT_CODE} from '../util/signals.js'
import {type ScenarioBroker, withScenarioBroker} from './broker.js'
import {writeScenarioJunit} from './junit.js'
import {loadBuiltinScenarios, loadScenarioFile, selectScenarios} from './load.js'
import {negativeRuns} from './negatives.js'
import {checkOverrides, reportExitCode, runScenarios, totals} from './runner.js'
import type {ScenarioDefinition, ScenarioReport, ScenarioResult} from './types.js'

/** What `evt scenario` asks for, parsed from its flags. */
export interface ScenarioCommandInput {
  names: string[]
  all?: boolean
  files?: string[]
  overrides?: Record<string, string | number | boolean>
  junit?: string
  failOnSkip?: boolean
  /** Run each selected scenario's negative cases instead of the scenario: proof that its checks can fail. */
  negatives?: boolean
  settings: ConnectionSettings
  /** Several brokers (`--name a --name b`): the same scenarios on each in turn, one report. Overrides settings. */
  brokers?: {name: string; settings: ConnectionSettings}[]
  home: string
  runtime?: RuntimeChoice
  /** The image of a throwaway container broker. */
  image?: string
  onNotice?: (line: string) => void
  concurrency?: number
  onStarting?: () => void
  onBrokerReady?: (target: ScenarioBroker, name?: string) => void
  onProgress?: (line: string) => void
  onResult?: (result: ScenarioResult) => void
  /** How long to wait for another run on the same `evt up` broker (default 10 minutes), then exit 3. */
  leaseTimeoutMs?: number
}

export interface ScenarioCommandOutcome {
  report: ScenarioReport
  /**
   * 0 all passed, 1 a check failed / a scenario errored / (--fail-on-skip) one was skipped, 2 or 3 a scenario
   * errored on bad input or an unreachable broker, 128+n on a signal.
   */
  exitCode: number
}

/** The scenarios a command line names: built-ins by name or --all, plus --file scenarios. */
export async function selectScenarioDefinitions(input: {
  names: string[]
  all?: boolean
  files?: string[]
}): Promise<ScenarioDefinition[]> {
  const builtins = await loadBuiltinScenarios()
  const files = await Promise.all((input.files ?? []).map((f) => loadScenarioFile(f)))
  const defs = [...(input.all ? builtins : selectScenarios(builtins, input.names)), ...files]
  if (defs.length === 0) throw new UsageError('name a scenario, or pass --all or --file', 'See `evt scenario --list`')
  return defs
}

/** --junit must be writable before anything runs (a CI job learns it in a second, not after the run). */
export async function checkWritableFile(file: string, flag = '--junit'): Promise<void> {
  const full = resolvePath(file)
  const info = await stat(full).catch(() => undefined)
  if (info?.isDirectory()) throw new UsageError(`${flag} ${file} is a directory`, 'Give a file name, e.g. report.xml')
  try {
    await access(info ? full : dirname(full), constants.W_OK)
  } catch {
    throw new UsageError(
      `${flag} ${file} cannot be written (${info ? 'the file is read-only' : 'its folder does not exist or is read-only'})`,
      'Choose a path in a folder that exists and that you can write to',
    )
  }
}

/**
 * `evt scenario`: select, check the flags, get a broker, run (results stream through onResult), write the
 * JUnit report (also for an interrupted run: what ran, the interrupted scenario as an error), and say the
 * exit code. Everything but flag parsing and printing lives here.
 */
export async function runScenarioCommand(input: ScenarioCommandInput): Promise<ScenarioCommandOutcome> {
  const selected = await selectScenarioDefinitions(input)
  checkOverrides(selected, input.overrides ?? {})
  const defs = input.negatives ? negativeRuns(selected) : selected
  if (defs.length === 0)
    throw new UsageError(
      `${selected.map((d) => d.name).join(', ')} declare${selected.length === 1 ? 's' : ''} no negative cases`,
      'Add a `negatives:` list to the scenario file (see docs/scenarios.md, "Negative cases")',
    )
  if (input.junit) await checkWritableFile(input.junit)
  const targets =
    input.brokers && input.brokers.length > 0 ? input.brokers : [{name: undefined, settings: input.settings}]
  const reports: ScenarioReport[] = []
  let exitCode = 0
  for (const target of targets) {
    const outcome = await runOn(defs, input, target.settings, target.name)
    reports.push(outcome.report)
    exitCode = Math.max(exitCode, outcome.exitCode)
    if (outcome.report.interrupted) break
  }
  const report =
    reports.length === 1
      ? reports[0]
      : mergeReports(
          reports,
          targets.map((t) => t.name ?? ''),
        )
  if (input.junit) await writeScenarioJunit(report, input.junit)
  return {report, exitCode}
}

/** The reports of several brokers as one: each result labelled with its broker, totals over all. */
export function mergeReports(reports: ScenarioReport[], names: string[]): ScenarioReport {
  const scenarios = reports.flatMap((r, i) => r.scenarios.map((s) => ({...s, broker: names[i]})))
  const interrupted = reports.find((r) => r.interrupted)?.interrupted
  return {
    broker: reports[0].broker,
    brokers: reports.map((r, i) => ({name: names[i], ...r.broker})),
    scenarios,
    totals: totals(scenarios),
    seconds: reports.reduce((sum, r) => sum + r.seconds, 0),
    ...(interrupted ? {interrupted} : {}),
  }
}

/**
 * Two runs on one `evt up` broker must not meet a restart, kill or partition of the other's: a run with such
 * a scenario holds the broker alone, the others share it (each scenario has its own vhost). A run that has
 * to wait says for whom, once.
 */
async function leaseScenarioBroker(
  defs: ScenarioDefinition[],
  input: ScenarioCommandInput,
  brokerName: string,
  signal?: AbortSignal,
): Promise<() => Promise<void>> {
  const exclusive = defs.some((d) => d.requires.length > 0)
  return acquireLease(await brokerLeaseDir(input.home, brokerName), {
    exclusive,
    what: `evt scenario ${[...new Set(defs.map((d) => d.name))].join(' ')}`.slice(0, 120),
    subject: `broker "${brokerName}"`,
    signal,
    timeoutMs: input.leaseTimeoutMs,
    onWait: (holders) =>
      input.onNotice?.(
        `waiting for broker "${brokerName}": ${describeHolders(holders)} ${exclusive ? 'is using it' : 'restarts or faults it'}`,
      ),
  })
}

/** One broker: get it (or a throwaway), run, and say the exit code. */
async function runOn(
  defs: ScenarioDefinition[],
  input: ScenarioCommandInput,
  settings: ConnectionSettings,
  name: string | undefined,
): Promise<ScenarioCommandOutcome> {
  const started = Date.now()
  let report: ScenarioReport
  try {
    report = await withScenarioBroker(
      settings,
      {
        home: input.home,
        runtime: input.runtime,
        image: input.image,
        onStarting: input.onStarting,
        onNotice: input.onNotice,
        lease: (brokerName, signal) => leaseScenarioBroker(defs, input, brokerName, signal),
      },
      (target, signal) => {
        input.onBrokerReady?.(target, name)
        return runScenarios(defs, {
          broker: target.broker,
          source: target.source,
          overrides: input.overrides,
          onRestart: target.onRestart,
          onProgress: input.onProgress,
          onResult: (result) => input.onResult?.(name === undefined ? result : {...result, broker: name}),
          signal,
          concurrency: input.concurrency,
        })
      },
    )
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err
    // Interrupted while a throwaway broker started: nothing ran.
    report = {
      broker: {runtime: input.runtime ?? 'auto', url: '', source: 'throwaway'},
      scenarios: [],
      totals: totals([]),
      seconds: (Date.now() - started) / 1000,
      interrupted: err.message,
    }
    return {report, exitCode: SIGNAL_EXIT_CODE[err.signalName]}
  }
  const signalName = /interrupted by (SIG\w+)/.exec(report.interrupted ?? '')?.[1] as
    | keyof typeof SIGNAL_EXIT_CODE
    | undefined
  const exitCode = report.interrupted
    ? SIGNAL_EXIT_CODE[signalName ?? 'SIGINT']
    : reportExitCode(report, {failOnSkip: input.failOnSkip})
  return {report, exitCode}
}
