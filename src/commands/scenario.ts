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
    '<%= config.bin %> scenario durability fanout --name rabbit-310 --name rabbit-313',
    '<%= config.bin %> scenario --file my-scenario.yaml --param messages=50',
    '<%= config.bin %> scenario nack-requeue --negatives',
  ]
  static override args = {name: Args.string({description: 'Scenario names (see --list).'})}
  static override flags = {
    name: Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      summary:
        'Broker(s) started by `evt up` to run on (env EVT_BROKER); repeat it to run the same scenarios on each, with one report.',
      helpGroup: 'CONNECTION',
    }),
    all: Flags.boolean({summary: 'Run every built-in scenario.'}),
    list: Flags.boolean({summary: 'List the built-in scenarios: name, what each proves, typical seconds.'}),
    file: Flags.string({
      summary: 'Run a scenario file of your own (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    messages: Flags.integer({summary: 'Messages per scenario (sets the "messages" parameter).', min: 1}),
    consumers: Flags.integer({summary: 'Consumers (sets the "consumers" parameter).', min: 1, max: 100}),
    kill: Flags.boolean({summary: 'durability: SIGKILL the broker mid-publish instead of restarting it.'}),
    param: Flags.string({
      summary: 'Set a scenario parameter: name=value (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    junit: Flags.string({summary: 'Write a JUnit XML report to this file (checked writable before anything runs).'}),
    negatives: Flags.boolean({
      summary:
        "Run the scenarios' negative cases instead: each breaks the promise and passes only when exactly the checks it names fail.",
    }),
    'fail-on-skip': Flags.boolean({
      summary: 'Exit 1 when a scenario or a check was skipped (CI that must run them all).',
    }),
    concurrency: Flags.integer({
      summary: 'Scenarios that do not restart the broker run this many at a time, each in its own vhost.',
      default: 6,
      min: 1,
      max: 32,
    }),
    'wait-seconds': Flags.integer({
      summary:
        'How long to wait for another `evt scenario` on the same `evt up` broker when one of the two restarts or faults it; then exit 3.',
      default: 600,
      min: 0,
    }),
    runtime: Flags.option({
      options: ['auto', 'local', 'container'] as const,
      default: 'auto' as const,
      summary: 'Runtime of the throwaway broker (when neither `evt up` nor --url gives one).',
    })(),
    image: Flags.string({
      summary: 'Container image of a throwaway container broker (default: EVT_IMAGE, else rabbitmq:3.13-management).',
      env: 'EVT_IMAGE',
    }),
  }

  async run(): Promise<ScenarioReport | {scenarios: ScenarioListing[]}> {
    if (this.flags.list) {
      const load = await import('../scenarios/load.js')
      const scenarios = load.listScenarios(await load.loadBuiltinScenarios())
      if (!this.jsonEnabled()) this.log((await import('../scenarios/report.js')).formatScenarioList(scenarios))
      return {scenarios}
    }
    const names = ((await this.parse(Scenario)).argv as string[]).filter((a) => a !== '')
    const {runScenarioCommand} = await import('../scenarios/service.js')
    const format = await import('../scenarios/report.js')
    const human = !this.jsonEnabled()
    const brokerNames = [...new Set(this.flags.name ?? [])]
    const brokers =
      brokerNames.length > 1
        ? await Promise.all(brokerNames.map(async (name) => ({name, settings: await this.connection({name})})))
        : undefined
    const {report, exitCode} = await runScenarioCommand({
      names,
      all: this.flags.all,
      files: this.flags.file,
      overrides: this.overrides(),
      junit: this.flags.junit,
      failOnSkip: this.flags['fail-on-skip'],
      negatives: this.flags.negatives,
      settings: brokers ? brokers[0].settings : await this.connection(),
      brokers,
      home: stateHome(),
      runtime: this.flags.runtime as RuntimeChoice,
      image: this.flags.image,
      onNotice: (line) => this.notice(line),
      concurrency: this.flags.concurrency,
      leaseTimeoutMs: this.flags['wait-seconds'] * 1000,
      onStarting: () => this.progress(`Starting a throwaway ${this.flags.runtime} broker ...`),
      onBrokerReady: (target, brokerName) => {
        if (target.source === 'throwaway')
          this.info(`Throwaway ${target.broker.runtime} broker ready at ${maskUrl(target.broker.amqpUrl)}`)
        if (human)
          this.log(
            `${format.formatBrokerLine({...target, url: maskUrl(target.broker.amqpUrl), runtime: target.broker.runtime}, brokerName)}\n`,
          )
      },
      onProgress: (line) => this.info(line),
      // Results stream: each scenario's table as soon as it is known.
      onResult: (result) => {
        if (human) this.log(format.formatScenarioResult(result))
      },
    })
    if (human) this.log(format.formatScenarioSummary(report))
    process.exitCode = exitCode
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
