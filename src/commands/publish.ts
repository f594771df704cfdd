import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import type {PublishSummary} from '../publish/publisher.js'

export default class Publish extends BaseCommand<typeof Publish> {
  static override summary =
    'Publish catalogue events (fake, schema-valid data) with confirms, and report what was confirmed.'
  static override strict = false
  static override examples = [
    '<%= config.bin %> publish order.created',
    '<%= config.bin %> publish order.* --count 100 --rate 50',
    '<%= config.bin %> publish tutorgo/payment.completed --set amount=42.5 --seed 7',
    '<%= config.bin %> publish --all --count 10 --json',
    '<%= config.bin %> publish --from saved.ndjson --speed 1',
    '<%= config.bin %> publish --from saved.ndjson --exchange orders-staging --routing-key order.created',
  ]
  static override args = {
    type: Args.string({description: 'Event types: names, system/name, or patterns such as order.* (several allowed)'}),
  }
  static override flags = {
    all: Flags.boolean({summary: 'Publish every type of the catalogue.'}),
    count: Flags.integer({char: 'n', summary: 'Messages per type.', default: 1, min: 1}),
    rate: Flags.string({summary: 'Messages per second (whole run); default: as fast as confirms allow.'}),
    seed: Flags.integer({summary: 'Make the run reproducible: same seed, same bodies, byte for byte.'}),
    data: Flags.string({summary: 'JSON merged into every message data, or @file.json.'}),
    set: Flags.string({
      summary: 'Override one data field: path=value (value parsed as JSON when it can be); repeatable.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    envelope: Flags.string({
      summary: 'Body format (default: evt.yaml publish.envelope, else standard).',
      options: ['standard', 'none', 'cloudevents'],
    }),
    transient: Flags.boolean({summary: 'Delivery mode 1 (default: persistent).'}),
    confirm: Flags.boolean({
      summary: 'Wait for publisher confirms (--no-confirm: fire and forget).',
      default: true,
      allowNo: true,
    }),
    mandatory: Flags.boolean({
      summary: 'Count unroutable messages as returned (exit 1).',
      default: true,
      allowNo: true,
    }),
    tenant: Flags.string({summary: 'Envelope tenant_id.'}),
    'correlation-id': Flags.string({summary: 'Envelope correlation_id for every message (default: one per message).'}),
    'confirm-window': Flags.integer({summary: 'Unconfirmed messages in flight.', default: 1000, min: 1}),
    'data-pool': Flags.integer({
      summary: 'Distinct payloads per type before reuse (0: every message fresh).',
      default: 1000,
      min: 0,
    }),
    from: Flags.string({
      summary: 'Replay a recording (`evt tail --save` or `--json` output): same properties, headers and bodies.',
      helpValue: 'FILE.ndjson',
      helpGroup: 'REPLAY',
    }),
    speed: Flags.string({
      summary: 'With --from: 1 keeps the recorded pacing, 2 twice as fast (default: as fast as confirms allow).',
      helpGroup: 'REPLAY',
    }),
    exchange: Flags.string({summary: 'With --from: publish to this exchange instead.', helpGroup: 'REPLAY'}),
    'routing-key': Flags.string({summary: 'With --from: use this routing key instead.', helpGroup: 'REPLAY'}),
    'reconnect-timeout': Flags.integer({
      summary: 'Seconds to keep reconnecting after losing the broker.',
      default: 30,
      min: 0,
    }),
  }

  async run(): Promise<PublishSummary> {
    const {argv} = await this.parse(Publish)
    const {runPublishCommand} = await import('../publish/command.js')
    const connection = await this.connection()
    const {summary, text, problem} = await runPublishCommand({
      names: argv as string[],
      flags: this.flags,
      connection,
      canPrompt: this.canPrompt(),
      json: this.jsonEnabled(),
      notice: (m) => this.info(m),
    })
    if (!this.jsonEnabled()) this.log(text)
    if (problem) {
      this.info(`Error: ${problem}`)
      process.exitCode = 1
    }
    return summary
  }
}
