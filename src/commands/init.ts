import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {maskUrl} from '../config/url.js'
import type {InitResult} from '../project/init.js'
import {interruptScope} from '../util/signals.js'

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Start a project: an evt.yaml with your catalogue, topology and scenario folders.'
  static override description =
    'Empty, from one of the seed systems (--example), or from an AsyncAPI 2.x/3.x document (--asyncapi): its channels, messages and AMQP bindings become event types and a RabbitMQ definitions file. Every evt command run in the folder (or below it) then uses the project.'
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --example tutorgo',
    '<%= config.bin %> init --asyncapi asyncapi.yaml',
    '<%= config.bin %> init my-project --asyncapi ../specs/orders.yaml',
    '<%= config.bin %> init inferred --from-broker --url amqp://user:pass@rabbit:5672 --seconds 60',
  ]
  static override args = {dir: Args.string({description: 'Folder of the project (default: the current one).'})}
  static override flags = {
    example: Flags.string({summary: 'Copy one seed system (customers, ecommerce, tutorgo, courses).'}),
    asyncapi: Flags.string({summary: 'Import an AsyncAPI 2.x or 3.x document (YAML or JSON).'}),
    'project-name': Flags.string({summary: 'The project name (default: the folder name or the AsyncAPI title).'}),
    'from-broker': Flags.boolean({
      summary:
        "Infer a project from the broker (--url, RABBITMQ_URL or `evt up`'s): its definitions, and a schema per type from the messages seen.",
    }),
    seconds: Flags.integer({summary: 'With --from-broker: how long to watch the exchanges.', default: 10, min: 1}),
    'max-messages': Flags.integer({
      summary: 'With --from-broker: stop after this many messages.',
      default: 1000,
      min: 1,
    }),
    force: Flags.boolean({summary: 'Write over an existing evt.yaml.'}),
  }

  async run(): Promise<InitResult> {
    const {initProject} = await import('../project/init.js')
    const fromBroker = this.flags['from-broker'] ? await this.brokerSource() : undefined
    const interrupts = interruptScope()
    const result = await initProject({
      fromBroker: fromBroker && {...fromBroker, signal: interrupts.signal},
      dir: this.args.dir ?? process.cwd(),
      example: this.flags.example,
      asyncapi: this.flags.asyncapi,
      name: this.flags['project-name'],
      force: this.flags.force,
    }).finally(() => interrupts.dispose())
    if (!this.jsonEnabled()) this.log((await import('../project/report.js')).formatInit(result))
    return result
  }

  private async brokerSource() {
    const conn = await this.connection()
    this.info(`Watching the exchanges of ${maskUrl(conn.amqpUrl)} for ${this.flags.seconds} s ...`)
    return {
      amqpUrl: conn.amqpUrl,
      managementUrl: conn.managementUrl,
      vhost: this.flags.vhost,
      seconds: this.flags.seconds,
      maxMessages: this.flags['max-messages'],
      log: (line: string) => this.progress(line),
    }
  }
}
