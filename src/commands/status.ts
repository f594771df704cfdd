import {BaseCommand} from '../base-command.js'
import {formatStatus} from '../report/broker-report.js'
import {type BrokerStatus, brokerStatus} from '../status/broker-status.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show the broker: runtime, version, uptime, URLs, vhosts, and each queue with its counts.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --vhost ecommerce --json']

  async run(): Promise<BrokerStatus> {
    const status = await brokerStatus(await this.connection())
    if (!this.jsonEnabled()) this.log(formatStatus(status))
    return status
  }
}
