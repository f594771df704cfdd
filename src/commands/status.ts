import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {type BrokerStatus, brokerStatus} from '../status/broker-status.js'
import {formatRecordedBrokers, type RecordedBrokers, recordedBrokers} from '../status/recorded.js'
import {formatStatus} from '../status/report.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show the broker: runtime, version, uptime, URLs, vhosts, and each queue with its counts.'
  static override description =
    'With --all: every broker `evt up` recorded in the state folder, and whether it runs (running, starting, stopped, interrupted, down).'
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --vhost ecommerce --json',
    '<%= config.bin %> status --all',
  ]
  static override flags = {
    all: Flags.boolean({summary: 'List every recorded broker with its state, instead of one broker in detail.'}),
  }

  async run(): Promise<BrokerStatus | RecordedBrokers> {
    if (this.flags.all) {
      const list = await recordedBrokers(this.stateHome())
      if (!this.jsonEnabled()) this.log(formatRecordedBrokers(list))
      return list
    }
    const status = await brokerStatus(await this.connection())
    if (!this.jsonEnabled()) this.log(formatStatus(status))
    return status
  }
}
