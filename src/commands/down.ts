import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {type DownResult, down} from '../broker/lifecycle.js'
import {listBrokerNames} from '../config/state.js'
import {formatDownResult} from '../status/report.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop the broker `evt up` started, and remove its data.'
  static override description =
    'A throwaway broker is killed, not stopped gracefully: it is fast, and its data is removed anyway, with its record and the passwords evt generated for its users. With --keep-data the node is stopped gracefully and its data kept, so a later `evt up` resumes it with its messages. Without --name: the only recorded broker, else "default".'
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --name ci --keep-data']

  static override flags = {
    'keep-data': Flags.boolean({summary: 'Keep the data folder for a later `evt up`.'}),
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
    })
    if (!this.jsonEnabled()) this.log(formatDownResult(result))
    return result
  }
}
