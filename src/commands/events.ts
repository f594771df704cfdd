import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {describeEventType, type EventTypeDetails, type EventTypeInfo, listEventTypes} from '../catalogue/describe.js'
import {formatCatalogue} from '../catalogue/report.js'
import type {AsyncApiExportResult} from '../project/asyncapi/index.js'

export default class Events extends BaseCommand<typeof Events> {
  static override summary = 'List the event catalogue, or show one type: its schema and a sample message.'
  static override description =
    "The catalogue is the project's (evt.yaml, found walking up from the current folder), else evt's seed systems. --asyncapi writes it with the topology as an AsyncAPI 3.0 document."
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events order.*',
    '<%= config.bin %> events tutorgo/payment.completed',
    '<%= config.bin %> events --json',
    '<%= config.bin %> events --asyncapi asyncapi.yaml',
    "<%= config.bin %> events 'tutorgo/#' --asyncapi -",
  ]
  static override args = {
    type: Args.string({description: 'A type, a qualified type (system/name), or a pattern such as order.*'}),
  }
  static override flags = {
    asyncapi: Flags.string({
      summary:
        'Write the catalogue and topology as an AsyncAPI 3.0 document to this file (.json: JSON, else YAML; -: stdout).',
    }),
  }

  async run(): Promise<EventTypeInfo[] | EventTypeDetails | Omit<AsyncApiExportResult, 'text'>> {
    const {type} = this.args
    const {loadCatalogue} = await import('../catalogue/catalogue.js')
    const catalogue = loadCatalogue()
    const matches = type === undefined ? catalogue.list() : catalogue.resolve(type)
    if (this.flags.asyncapi !== undefined) {
      const {exportProjectAsyncApi} = await import('../project/asyncapi/index.js')
      const {text, ...result} = await exportProjectAsyncApi({file: this.flags.asyncapi, types: matches})
      if (result.file === undefined) process.stdout.write(text)
      else if (!this.jsonEnabled())
        this.log(
          `Wrote ${result.file}: AsyncAPI 3.0, ${result.messages} messages, ${result.channels} channels, ${result.operations} operations`,
        )
      return result
    }
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
