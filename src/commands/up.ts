import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {RUNTIME_CHOICES} from '../broker/index.js'
import {up} from '../broker/lifecycle.js'
import type {RuntimeChoice} from '../broker/types.js'
import {stateHome} from '../config/state.js'
import {formatUpReport, type UpReport, upReport} from '../report/broker-report.js'
import type {ProvisionSummary} from '../topology/provision.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Start a RabbitMQ broker for local work or CI, and record it for the other commands.'
  static override description =
    'Runtimes: container (Testcontainers, needs Docker), local (a private rabbitmq-server node: own name, ports, data and cookie), external (--url, nothing started). auto picks container when Docker answers, else local.'
  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up --runtime local --name ci --port 5673',
    '<%= config.bin %> up --json --show-secrets',
  ]

  static override flags = {
    runtime: Flags.option({
      options: RUNTIME_CHOICES,
      default: 'auto',
      summary: 'Where the broker runs.',
      env: 'EVT_RUNTIME',
    })(),
    port: Flags.integer({summary: 'AMQP port (default: a free port).', min: 1, max: 65535}),
    'management-port': Flags.integer({summary: 'Management API port (default: a free port).', min: 1, max: 65535}),
    image: Flags.string({summary: 'Container image (container runtime).', default: 'rabbitmq:3.13-management'}),
    'show-secrets': Flags.boolean({summary: 'With --json, include credentials in the URLs.'}),
    provision: Flags.boolean({
      default: true,
      allowNo: true,
      summary: 'Apply the seed topology (fixtures/topology) once the broker is ready; --no-provision skips it.',
    }),
  }

  async run(): Promise<UpReport & {provision?: ProvisionSummary}> {
    const abort = new AbortController()
    const onSignal = () => abort.abort(new Error('interrupted'))
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      const result = await up({
        home: stateHome(),
        name: this.flags.name,
        runtime: this.flags.runtime as RuntimeChoice,
        amqpPort: this.flags.port,
        managementPort: this.flags['management-port'],
        image: this.flags.image,
        url: this.flags.url ?? (this.flags.runtime === 'external' ? process.env.RABBITMQ_URL : undefined),
        managementUrl: this.flags['management-url'],
        signal: abort.signal,
        onStarting: (runtime) => this.info(`Starting a ${runtime} broker "${this.flags.name}" ...`),
      })
      const report = upReport(result, {showSecrets: this.flags['show-secrets'] && this.jsonEnabled()})
      if (!this.jsonEnabled()) this.log(formatUpReport(report))
      // An external broker is the user's own: provision it only with `evt provision`.
      if (!this.flags.provision || result.broker.runtime === 'external') return report
      const provision = await this.provisionFixture(result.broker.managementUrl)
      return {...report, provision}
    } finally {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    }
  }

  private async provisionFixture(managementUrl: string): Promise<ProvisionSummary> {
    const {provision, provisionSummary} = await import('../topology/provision.js')
    const {formatGeneratedPasswords} = await import('../topology/report.js')
    const result = await provision({managementUrl, home: stateHome()})
    const summary = provisionSummary(result)
    const passwords = formatGeneratedPasswords(result)
    if (passwords) this.info(passwords)
    const change = summary.changed ? `${summary.created} created, ${summary.updated} updated` : 'up to date'
    if (!this.jsonEnabled()) this.log(`  topology    vhosts ${summary.vhosts.join(', ')} (${change})`)
    return summary
  }
}
