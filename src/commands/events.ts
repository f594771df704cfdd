import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {describeEventType, type EventTypeDetails, type EventTypeInfo, listEventTypes} from '../catalogue/describe.js'
import {formatCatalogue} from '../publish/report.js'

export default class Events extends BaseCommand<typeof Events> {
  static override summary = 'List the event catalogue, or show one type: its schema and a sample message.'
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events order.*',
    '<%= config.bin %> events tutorgo/payment.completed',
    '<%= config.bin %> events --json',
  ]
  static override args = {
    type: Args.string({description: 'A type, a qualified type (system/name), or a pattern such as order.*'}),
  }

  async run(): Promise<EventTypeInfo[] | EventTypeDetails> {
    const {type} = this.args
    const {loadCatalogue} = await import('../catalogue/catalogue.js')
    const catalogue = loadCatalogue()
    const matches = type === undefined ? catalogue.list() : catalogue.resolve(type)
    const isPattern = type !== undefined && /(^|[./])[*#](\.|$)/.test(type)
    if (type === undefined || isPattern) {
      if (!this.jsonEnabled()) this.log(formatCatalogue(matches))
      return listEventTypes(matches)
    }
    const details = await describeEventType(matches[0]!)
    if (!this.jsonEnabled()) this.log(details.text)
    return {...details, text: undefined}
  }
}
