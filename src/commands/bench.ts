import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {EXCHANGE_TYPES, QUEUE_TYPES} from '../bench/options.js'
import type {BenchReport} from '../bench/run.js'

const decimal = Flags.custom<number>({
  parse: async (input) => {
    const n = Number(input)
    if (input.trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number, got "${input}"`)
    return n
  },
})

export default class Bench extends BaseCommand<typeof Bench> {
  static override summary =
    'Measure the broker: producers and consumers in one run, rates, latency percentiles, CI thresholds.'
  static override description =
    'Runs in a throwaway vhost that is deleted afterwards. Latency is publish → consume from a send time carried in each message; confirm latency is per delivery tag. A missed --expect-* threshold exits 1.'
  static override examples = [
    '<%= config.bin %> bench --duration 10',
    '<%= config.bin %> bench --count 100000 --persistent --confirm 1000 --json',
    '<%= config.bin %> bench --producers 2 --consumers 2 --rate 500 --duration 30 --expect-p99 20',
    '<%= config.bin %> bench --event order.created --count 50000 --expect-publish-rate 5000',
  ]

  static override flags = {
    producers: Flags.integer({char: 'x', summary: 'Producer connections.', default: 1, min: 1}),
    consumers: Flags.integer({char: 'y', summary: 'Consumer connections (0: publish only).', default: 1, min: 0}),
    rate: decimal({char: 'r', summary: 'Messages per second per producer (0: unlimited).', default: 0}),
    size: Flags.integer({char: 's', summary: 'Body size in bytes for random payloads (at least 8).', default: 1000}),
    count: Flags.integer({char: 'C', summary: 'Total messages across producers (instead of --duration).'}),
    duration: decimal({char: 'z', summary: 'Seconds to publish for (default 10 when no --count).'}),
    confirm: Flags.integer({
      char: 'c',
      summary: 'Publisher confirms with this many in flight per producer (0: off).',
      default: 0,
    }),
    persistent: Flags.boolean({summary: 'Persistent messages (delivery mode 2).'}),
    prefetch: Flags.integer({char: 'q', summary: 'Consumer prefetch (0: unlimited).', default: 1000}),
    'multi-ack': Flags.integer({
      char: 'A',
      summary: 'Ack with multiple=true every N deliveries (1: ack each).',
      default: 100,
    }),
    'queue-type': Flags.option({options: QUEUE_TYPES, summary: 'Queue type.', default: 'classic' as const})(),
    'exchange-type': Flags.option({options: EXCHANGE_TYPES, summary: 'Exchange type.', default: 'direct' as const})(),
    event: Flags.string({char: 'e', summary: 'Send catalogue events of this type instead of random bytes.'}),
    'expect-publish-rate': decimal({
      summary: 'Fail (exit 1) if the publish rate is below this (msg/s).',
      helpGroup: 'THRESHOLDS',
    }),
    'expect-consume-rate': decimal({
      summary: 'Fail (exit 1) if the consume rate is below this (msg/s).',
      helpGroup: 'THRESHOLDS',
    }),
    'expect-p99': decimal({
      summary: 'Fail (exit 1) if publish → consume p99 latency is above this (ms).',
      helpGroup: 'THRESHOLDS',
    }),
  }

  async run(): Promise<BenchReport> {
    const {benchCommand} = await import('../bench/command.js')
    const f = this.flags
    return benchCommand({
      options: {
        producers: f.producers,
        consumers: f.consumers,
        rate: f.rate,
        size: f.size,
        count: f.count,
        durationSeconds: f.duration,
        confirm: f.confirm,
        persistent: f.persistent,
        prefetch: f.prefetch,
        multiAck: f['multi-ack'],
        queueType: f['queue-type'],
        exchangeType: f['exchange-type'],
        event: f.event,
      },
      expect: {publishRate: f['expect-publish-rate'], consumeRate: f['expect-consume-rate'], p99Ms: f['expect-p99']},
      connection: await this.connection(),
      json: this.jsonEnabled(),
      log: (text) => this.log(text),
      info: (text) => this.info(text),
    })
  }
}
