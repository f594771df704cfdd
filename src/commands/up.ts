import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {DEFAULT_IMAGE} from '../broker/container.js'
import {RUNTIME_CHOICES} from '../broker/index.js'
import {up} from '../broker/lifecycle.js'
import type {RuntimeChoice} from '../broker/types.js'
import {projectBrokerDefaults} from '../project/project.js'
import {formatUpReport, type UpReport, upReport} from '../status/report.js'
import type {ProvisionSummary} from '../topology/provision.js'
import {interruptScope} from '../util/signals.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Start a RabbitMQ broker for local work or CI, and record it for the other commands.'
  static override description =
    'Runtimes: container (Testcontainers, needs Docker), local (a private rabbitmq-server node: own name, ports, data and cookie), external (--url, nothing started). auto picks container when Docker answers and the image is present or can be pulled, else local (saying why).'
  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up --runtime local --name ci --port 5673',
    '<%= config.bin %> up --nodes 3',
    '<%= config.bin %> up --json --show-secrets',
  ]

  static override flags = {
    runtime: Flags.option({
      options: RUNTIME_CHOICES,
      default: async () => projectBrokerDefaults().runtime ?? 'auto',
      summary: 'Where the broker runs (default: evt.yaml broker.runtime, else auto).',
      env: 'EVT_RUNTIME',
    })(),
    nodes: Flags.integer({
      summary:
        'How many nodes: 1, or an odd number >= 3 for a cluster (containers or local nodes; see docs/cluster.md).',
      min: 1,
      max: 9,
    }),
    port: Flags.integer({summary: 'AMQP port (default: a free port; node 1 of a cluster).', min: 1, max: 65535}),
    'management-port': Flags.integer({summary: 'Management API port (default: a free port).', min: 1, max: 65535}),
    image: Flags.string({
      summary:
        'Container image (container runtime; default: EVT_IMAGE, else evt.yaml broker.image, else rabbitmq:3.13-management).',
      env: 'EVT_IMAGE',
      default: async () => projectBrokerDefaults().image ?? DEFAULT_IMAGE,
    }),
    'queue-type': Flags.option({
      options: ['classic', 'quorum'] as const,
      summary: 'Provision the work queues as quorum queues (with --nodes 3; see docs/cluster.md).',
    })(),
    'show-secrets': Flags.boolean({summary: 'With --json, include credentials in the URLs.'}),
    provision: Flags.boolean({
      default: true,
      allowNo: true,
      summary:
        "Apply the topology (the project's evt.yaml topology, else the seed systems') once the broker is ready; --no-provision skips it.",
    }),
  }

  async run(): Promise<UpReport & {provision?: ProvisionSummary}> {
    const interrupts = interruptScope()
    const name = this.brokerName()
    try {
      const result = await up({
        home: this.stateHome(),
        name,
        runtime: this.flags.runtime as RuntimeChoice,
        amqpPort: this.flags.port,
        managementPort: this.flags['management-port'],
        image: this.flags.image,
        url: this.flags.url ?? (this.flags.runtime === 'external' ? process.env.RABBITMQ_URL : undefined),
        managementUrl: this.flags['management-url'],
        signal: interrupts.signal,
        nodes: this.flags.nodes,
        onStarting: (runtime) =>
          this.progress(
            (this.flags.nodes ?? 1) > 1
              ? `Starting a ${this.flags.nodes}-node ${runtime} cluster "${name}" ...`
              : `Starting a ${runtime} broker "${name}" ...`,
          ),
        onWaiting: (owner) =>
          this.info(`Waiting for another evt (pid ${owner.pid}) that is starting or stopping "${name}" ...`),
        onCleaned: () => this.info(`Removed what an interrupted \`evt up\` of "${name}" had left.`),
        onNotice: (line) => this.notice(line),
      })
      const report = upReport(result, {showSecrets: this.flags['show-secrets'] && this.jsonEnabled()})
      if (!this.jsonEnabled()) this.log(formatUpReport(report))
      // An external broker is the user's own: provision it only with `evt provision`.
      if (!this.flags.provision || result.broker.runtime === 'external') return report
      const provision = await this.provisionFixture(result.broker.managementUrl)
      return {...report, provision}
    } finally {
      interrupts.dispose()
    }
  }

  private async provisionFixture(managementUrl: string): Promise<ProvisionSummary> {
    const {provision, provisionSummary} = await import('../topology/provision.js')
    const {formatGeneratedPasswords} = await import('../topology/report.js')
    const result = await provision({managementUrl, home: this.stateHome(), queueType: this.flags['queue-type']})
    const summary = provisionSummary(result)
    const passwords = formatGeneratedPasswords(result)
    if (passwords) this.info(passwords)
    const change = summary.changed ? `${summary.created} created, ${summary.updated} updated` : 'up to date'
    if (!this.jsonEnabled()) this.log(`  topology    vhosts ${summary.vhosts.join(', ')} (${change})`)
    return summary
  }
}
