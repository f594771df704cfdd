import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {type DownResult, down} from '../broker/lifecycle.js'
import {stateHome} from '../config/state.js'
import {formatDownResult} from '../report/broker-report.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop the broker `evt up` started, and remove its data.'
  static override description =
    'A throwaway broker is killed, not stopped gracefully: it is fast, and its data is removed anyway. With --keep-data the node is stopped and its data kept, so a later `evt up` resumes it with its messages.'
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --name ci --keep-data']

  static override flags = {
    'keep-data': Flags.boolean({summary: 'Keep the data folder for a later `evt up`.'}),
  }

  async run(): Promise<DownResult> {
    const result = await down({home: stateHome(), name: this.flags.name, keepData: this.flags['keep-data']})
    if (!this.jsonEnabled()) this.log(formatDownResult(result))
    return result
  }
}
