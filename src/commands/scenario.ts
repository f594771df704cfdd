import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import type {RuntimeChoice} from '../broker/types.js'
import {stateHome} from '../config/state.js'
import {maskUrl} from '../config/url.js'
import {UsageError} from '../errors.js'
import type {ScenarioListing, ScenarioReport} from '../scenarios/types.js'

export default class Scenario extends BaseCommand<typeof Scenario> {
  static override summary = 'Prove RabbitMQ behaviour: run scenarios that check what the broker promises, exit 0 or 1.'
  static override description =
    'Runs on the broker `evt up` recorded, else on --url / RABBITMQ_URL, else on a throwaway broker it starts and removes. Each scenario works in its own throwaway vhost. Scenarios that restart or kill the broker are skipped on an external broker.'
  static override strict = false
  static override examples = [
    '<%= config.bin %> scenario --list',
    '<%= config.bin %> scenario durability',
    '<%= config.bin %> scenario durability --kill --messages 20000',
    '<%= config.bin %> scenario load-balanced fanout --consumers 6',
    '<%= config.bin %> scenario --all --junit report.xml',
    '<%= config.bin %> scenario --file my-scenario.yaml --param messages=50',
  ]
  static override args = {name: Args.string({description: 'Scenario names (see --list).'})}
  static override flags = {
    all: Flags.boolean({summary: 'Run every built-in scenario.'}),
    list: Flags.boolean({summary: 'List the built-in scenarios: name, what each proves, typical seconds.'}),
    file: Flags.string({summary: 'Run a scenario file of your own (repeatable).', multiple: true}),
    messages: Flags.integer({summary: 'Messages per scenario (sets the "messages" parameter).', min: 1}),
    consumers: Flags.integer({summary: 'Consumers (sets the "consumers" parameter).', min: 1, max: 100}),
    kill: Flags.boolean({summary: 'durability: SIGKILL the broker mid-publish instead of restarting it.'}),
    param: Flags.string({summary: 'Set a scenario parameter: name=value (repeatable).', multiple: true}),
    junit: Flags.string({summary: 'Write a JUnit XML report to this file.'}),
    runtime: Flags.option({
      options: ['auto', 'local', 'container'] as const,
      default: 'auto' as const,
      summary: 'Runtime of the throwaway broker (when neither `evt up` nor --url gives one).',
    })(),
  }

  async run(): Promise<ScenarioReport | {scenarios: ScenarioListing[]}> {
    const load = await import('../scenarios/load.js')
    const builtins = await load.loadBuiltinScenarios()
    if (this.flags.list) {
      const scenarios = load.listScenarios(builtins)
      if (!this.jsonEnabled()) this.log((await import('../report/scenario-report.js')).formatScenarioList(scenarios))
      return {scenarios}
    }
    const names = ((await this.parse(Scenario)).argv as string[]).filter((a) => a !== '')
    const files = await Promise.all((this.flags.file ?? []).map((f) => load.loadScenarioFile(f)))
    const defs = [...(this.flags.all ? builtins : load.selectScenarios(builtins, names)), ...files]
    if (defs.length === 0) throw new UsageError('name a scenario, or pass --all or --file', 'See `evt scenario --list`')
    const overrides = this.overrides()

    const {withScenarioBroker} = await import('../scenarios/broker.js')
    const {runScenarios, reportExitCode} = await import('../scenarios/runner.js')
    const options = {
      home: stateHome(),
      runtime: this.flags.runtime as RuntimeChoice,
      onStarting: () => this.info(`Starting a throwaway ${this.flags.runtime} broker ...`),
    }
    const report = await withScenarioBroker(await this.connection(), options, (target) => {
      if (target.source === 'throwaway')
        this.info(`Throwaway ${target.broker.runtime} broker ready at ${maskUrl(target.broker.amqpUrl)}`)
      return runScenarios(defs, {
        broker: target.broker,
        source: target.source,
        overrides,
        onRestart: target.onRestart,
        onProgress: (line) => this.info(line),
      })
    })
    if (this.flags.junit) await (await import('../report/junit.js')).writeScenarioJunit(report, this.flags.junit)
    if (!this.jsonEnabled()) this.log((await import('../report/scenario-report.js')).formatScenarioReport(report))
    process.exitCode = reportExitCode(report)
    return report
  }

  private overrides(): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = {}
    if (this.flags.messages !== undefined) out.messages = this.flags.messages
    if (this.flags.consumers !== undefined) out.consumers = this.flags.consumers
    if (this.flags.kill) out.kill = true
    for (const kv of this.flags.param ?? []) {
      const eq = kv.indexOf('=')
      if (eq <= 0) throw new UsageError(`--param "${kv}" is not name=value`, 'For example: --param messages=100')
      out[kv.slice(0, eq)] = kv.slice(eq + 1)
    }
    return out
  }
}
