import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {otherNodeUrls} from '../config/resolve.js'
import type {TailSummary} from '../tail/session.js'
import {colorEnabled, painter} from '../ui/terminal.js'
import {interruptScope} from '../util/signals.js'

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

A queue fed only through the default exchange (by name: hello world, work queues, RPC) is tapped through RabbitMQ's firehose tracer: tracing is turned on for the vhost while the tail runs and off again when it stops (needs the administrator tag, or tracing already on); --firehose does this for any target.

--consume acks a message only once the reader has certainly taken it: when stdout is a pipe, once a pipe's buffer more has been written after it. A reader that goes away (| head -5) leaves every message it may not have read in the queue.

Exit codes: 0 done (count met, Ctrl-C, --idle/--timeout without --count); 1 --timeout/--idle ended before --count messages; 2 unknown or ambiguous target, bad flags; 3 broker unreachable or tracing refused; 141 the reader closed stdout first.`
  static override examples = [
    '<%= config.bin %> tail customers',
    '<%= config.bin %> tail orders --filter "order.*" --where "data.total>100"',
    '<%= config.bin %> tail ecommerce/orders --json --count 10 --timeout 30 | jq .body.type',
    '<%= config.bin %> tail --queue orders.dlq --consume --requeue --expand',
  ]
  static override strict = false
  static override args = {target: Args.string({description: 'Exchange or queue (several allowed).'})}
  static override flags = {
    exchange: Flags.string({
      summary: 'Tap this exchange (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
      helpGroup: 'TARGETS',
    }),
    queue: Flags.string({
      summary: 'Tap this queue (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
      helpGroup: 'TARGETS',
    }),
    binding: Flags.string({
      summary: 'Bind exchange taps with this key instead of "#" (repeatable; NAME=VALUE,... for headers exchanges).',
      multiple: true,
      multipleNonGreedy: true,
      helpGroup: 'TARGETS',
    }),
    consume: Flags.boolean({summary: 'Take the messages from the queue itself (destructive).', helpGroup: 'TARGETS'}),
    firehose: Flags.boolean({
      summary:
        'Read through the firehose tracer: every message published to the exchange, or routed to the queue, default exchange included.',
      helpGroup: 'TARGETS',
    }),
    save: Flags.string({
      summary:
        'Also write each message shown to FILE as NDJSON (all properties, exact body), for `evt publish --from`.',
      helpValue: 'FILE.ndjson',
    }),
    requeue: Flags.boolean({
      summary: 'With --consume: print the waiting messages and put them all back when the tail stops.',
      helpGroup: 'TARGETS',
    }),
    filter: Flags.string({
      summary: 'Routing-key topic pattern to keep (repeatable: any).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    where: Flags.string({
      summary: 'PATH OP VALUE on the message, e.g. type=order.created (repeatable: all).',
      multiple: true,
      multipleNonGreedy: true,
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
    // Listening before the tail starts: messages may flow (and be acked) as soon as it consumes, and a Ctrl-C
    // then must stop it cleanly, never kill it. A second Ctrl-C means "now": the broker requeues what was not acked.
    let stop: (() => void) | undefined
    let interruptedEarly = false
    const interrupts = interruptScope(() => {
      if (stop) stop()
      else interruptedEarly = true
    })
    const started = startTail({
      amqpUrl: conn.amqpUrl,
      otherNodeUrls: otherNodeUrls(conn),
      managementUrl: conn.managementUrl,
      vhost: conn.vhost,
      targets: [
        ...(argv as string[]).map((name) => ({name})),
        ...(f.exchange ?? []).map((name) => ({name, kind: 'exchange' as const})),
        ...(f.queue ?? []).map((name) => ({name, kind: 'queue' as const})),
      ],
      bindingPatterns: f.binding,
      consume: f.consume,
      firehose: f.firehose,
      save: f.save,
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
    const {session} = await started.catch((err) => {
      interrupts.dispose()
      throw err
    })
    stop = () => session.stop('signal')
    if (interruptedEarly) stop()
    const summary = await session.done.finally(() => interrupts.dispose())
    // After a ^C the terminal's cursor sits behind it: the summary starts on a line of its own.
    const fresh = interrupts.received && process.stderr.isTTY ? '\n' : ''
    process.stderr.write(json ? `${JSON.stringify({summary})}\n` : `${fresh}${formatSummary(summary)}\n`)
    // The reader closed our stdout (`| head -5`) before the tail was done: 141, as a shell reports SIGPIPE.
    if (summary.reason === 'output-closed') process.exitCode = 141
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
