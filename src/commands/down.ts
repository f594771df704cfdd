import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {type DownResult, down} from '../broker/lifecycle.js'
import {describeHolders} from '../config/lease.js'
import {listBrokerNames} from '../config/state.js'
import {formatDownResult} from '../status/report.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop the broker `evt up` started, and remove its data.'
  static override description =
    'A throwaway broker is killed, not stopped gracefully: it is fast, and its data is removed anyway, with its record and the passwords evt generated for its users. With --keep-data the node is stopped gracefully and its data kept, so a later `evt up` resumes it with its messages. Without --name: the only recorded broker, else "default".'
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --name ci --keep-data']

  static override flags = {
    'keep-data': Flags.boolean({summary: 'Keep the data folder for a later `evt up`.'}),
    force: Flags.boolean({
      summary: 'Stop it now, even while an `evt scenario` runs on it (that run then errors).',
    }),
    'wait-seconds': Flags.integer({
      summary: 'How long to wait for `evt scenario` runs on it to finish, then exit 3 (see --force).',
      default: 600,
      min: 0,
    }),
  }

  /** --name / EVT_BROKER; else the only recorded broker; else "default". */
  private async downName(): Promise<string> {
    if (this.flags.name !== undefined || process.env.EVT_BROKER) return this.brokerName()
    const recorded = await listBrokerNames(this.stateHome())
    return recorded.length === 1 ? recorded[0] : this.brokerName()
  }

  async run(): Promise<DownResult> {
    const result = await down({
      home: this.stateHome(),
      name: await this.downName(),
      keepData: this.flags['keep-data'],
      onWaiting: (owner) => this.info(`Waiting for another evt (pid ${owner.pid}) that is starting or stopping it ...`),
      force: this.flags.force,
      waitMs: this.flags['wait-seconds'] * 1000,
      onScenarioWait: (holders) =>
        this.info(
          `Waiting for ${describeHolders(holders)} to finish before stopping it (Ctrl-C to leave it running, --force to stop it now) ...`,
        ),
    })
    if (!this.jsonEnabled()) this.log(formatDownResult(result))
    return result
  }
}
