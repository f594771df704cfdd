import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {colorEnabled, painter} from '../report/terminal.js'
import type {TailSummary} from '../tail/session.js'

const seconds = (summary: string) => Flags.custom<number>({summary, helpGroup: 'BOUNDED RUNS', parse: parseSeconds})()

export default class Tail extends BaseCommand<typeof Tail> {
  static override summary =
    'Watch the messages flowing through exchanges and queues, without taking them (unless --consume).'
  static override description =
    `TARGET is an exchange or queue name, resolved across the broker's vhosts (and the fixture topology, for suggestions); write VHOST/NAME, or use --vhost, --exchange, --queue when a name is ambiguous.

An exchange is tapped by a private, exclusive, auto-delete queue bound with "#" (or --binding); a queue is tapped by a private queue bound like it, so the queue itself keeps all its messages. --consume reads the queue itself instead (destructive: each message is acked after it is printed); --consume --requeue prints the messages waiting in a queue (a dead-letter queue, say) and puts them all back when the tail stops.

--filter PATTERN keeps routing keys matching a topic pattern ("*" one word, "#" zero or more; several --filter: any).
--where EXPR keeps messages where PATH OP VALUE holds (several --where: all). PATH is a dotted path into the JSON body (type, data.total) or headers.NAME, properties.NAME, routingKey, exchange, vhost; OP is = != > >= < <= or ~ (regular expression); "*" is a wildcard in = and !=; PATH? means present, !PATH missing.

--json prints one JSON object per message on stdout (NDJSON; keys: seq, receivedAt, vhost, exchange, routingKey, redelivered, tap, properties, headers, size, bodyEncoding, body) and the summary as one {"summary": ...} line on stderr.

Exit codes: 0 done (count met, Ctrl-C, --idle/--timeout without --count); 1 --timeout/--idle ended before --count messages; 2 unknown or ambiguous target, bad flags; 3 broker unreachable.`
  static override examples = [
    '<%= config.bin %> tail customers',
    '<%= config.bin %> tail orders --filter "order.*" --where "data.total>100"',
    '<%= config.bin %> tail ecommerce/orders --json --count 10 --timeout 30 | jq .body.type',
    '<%= config.bin %> tail --queue orders.dlq --consume --requeue --expand',
  ]
  static override strict = false
  static override args = {target: Args.string({description: 'Exchange or queue (several allowed).'})}
  static override flags = {
    exchange: Flags.string({summary: 'Tap this exchange (repeatable).', multiple: true, helpGroup: 'TARGETS'}),
    queue: Flags.string({summary: 'Tap this queue (repeatable).', multiple: true, helpGroup: 'TARGETS'}),
    binding: Flags.string({
      summary: 'Bind exchange taps with this key instead of "#" (repeatable; NAME=VALUE,... for headers exchanges).',
      multiple: true,
      helpGroup: 'TARGETS',
    }),
    consume: Flags.boolean({summary: 'Take the messages from the queue itself (destructive).', helpGroup: 'TARGETS'}),
    requeue: Flags.boolean({
      summary: 'With --consume: print the waiting messages and put them all back when the tail stops.',
      helpGroup: 'TARGETS',
    }),
    filter: Flags.string({summary: 'Routing-key topic pattern to keep (repeatable: any).', multiple: true}),
    where: Flags.string({
      summary: 'PATH OP VALUE on the message, e.g. type=order.created (repeatable: all).',
      multiple: true,
    }),
    expand: Flags.boolean({summary: 'Print the whole message: routing, properties, headers, body.'}),
    count: Flags.integer({summary: 'Exit 0 after N matching messages.', min: 1, helpGroup: 'BOUNDED RUNS'}),
    timeout: seconds('Stop after S seconds (exit 1 if --count was not met).'),
    idle: seconds('Stop after S seconds without a matching message (exit 1 if --count was not met).'),
    prefetch: Flags.integer({summary: 'Messages in flight per target.', default: 1000, min: 2}),
  }

  async run(): Promise<TailSummary | undefined> {
    const {argv} = await this.parse(Tail)
    const f = this.flags
    const json = this.jsonEnabled()
    const {startTail, formatSummary, unmetCount} = await import('../tail/index.js')
    const conn = await this.connection()
    const paint = painter(!json && colorEnabled())
    const {session} = await startTail({
      amqpUrl: conn.amqpUrl,
      managementUrl: conn.managementUrl,
      vhost: conn.vhost,
      targets: [
        ...(argv as string[]).map((name) => ({name})),
        ...(f.exchange ?? []).map((name) => ({name, kind: 'exchange' as const})),
        ...(f.queue ?? []).map((name) => ({name, kind: 'queue' as const})),
      ],
      bindingPatterns: f.binding,
      consume: f.consume,
      requeue: f.requeue,
      filter: f.filter,
      where: f.where,
      count: f.count,
      timeoutSeconds: f.timeout,
      idleSeconds: f.idle,
      prefetch: f.prefetch,
      output: json ? 'json' : f.expand ? 'expand' : 'pretty',
      paint,
      previewWidth: 100,
      lineWidth: process.stdout.isTTY ? process.stdout.columns : undefined,
      log: (line) => process.stderr.write(`${painter(colorEnabled(process.stderr))('gray', line)}\n`),
    })
    let signals = 0
    const onSignal = () => {
      // A second Ctrl-C means "now": the broker requeues whatever was not acked.
      if (++signals > 1) process.exit(130)
      session.stop('signal')
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const summary = await session.done.finally(() => {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    })
    process.stderr.write(json ? `${JSON.stringify({summary})}\n` : `${formatSummary(summary)}\n`)
    const unmet = unmetCount(summary, f.count)
    if (unmet) {
      process.exitCode = 1
      process.stderr.write(json ? `${JSON.stringify({error: {message: unmet, exitCode: 1}})}\n` : `Error: ${unmet}\n`)
    }
    return json ? undefined : summary
  }
}

async function parseSeconds(input: string): Promise<number> {
  const n = Number(input.replace(/s$/, ''))
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a number of seconds > 0, got "${input}"`)
  return n
}
