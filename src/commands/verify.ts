import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import type {EnvelopeKind} from '../catalogue/types.js'
import type {VerifyReport} from '../contracts/verify.js'
import {interruptScope} from '../util/signals.js'

const positiveSeconds = async (input: string): Promise<number> => {
  const n = Number(input.replace(/s$/, ''))
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a number of seconds > 0, got "${input}"`)
  return n
}
const seconds = (summary: string) =>
  Flags.custom<number>({summary, helpGroup: 'BOUNDED RUNS', parse: positiveSeconds})()

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary =
    "Contract check for CI: every message seen on exchanges/queues must match its catalogue type's schema."
  static override description =
    `Taps the targets without taking their messages (as \`evt tail\` does), finds each message's catalogue type from its AMQP type / envelope type and its exchange and routing key, and validates the payload (the envelope's data, or the whole body with --envelope none; default: evt.yaml publish.envelope, else standard) against the type's JSON Schema.

Exit codes: 0 every message checked is valid; 1 a message breaks its schema, has no catalogue type (unless --allow-unknown), no message came, or --count was not reached; 2 bad flags or unknown target; 3 broker unreachable.`
  static override strict = false
  static override examples = [
    '<%= config.bin %> verify harbour.events --count 20 --timeout 60 --junit contracts.xml',
    '<%= config.bin %> verify orders payments --timeout 30',
    '<%= config.bin %> verify --queue billing.port-fees --idle 5 --json',
  ]
  static override args = {target: Args.string({description: 'Exchange or queue (several allowed).'})}
  static override flags = {
    exchange: Flags.string({summary: 'Tap this exchange (repeatable).', multiple: true, helpGroup: 'TARGETS'}),
    queue: Flags.string({summary: 'Tap this queue (repeatable).', multiple: true, helpGroup: 'TARGETS'}),
    count: Flags.integer({summary: 'Stop after N messages (exit 1 if fewer came).', min: 1, helpGroup: 'BOUNDED RUNS'}),
    timeout: seconds('Stop after S seconds.'),
    idle: seconds('Stop after S seconds without a message.'),
    envelope: Flags.string({
      summary: 'Body format: the schema describes the envelope data (standard, cloudevents) or the body (none).',
      options: ['standard', 'none', 'cloudevents'],
    }),
    'allow-unknown': Flags.boolean({summary: 'Messages with no catalogue type do not fail the check.'}),
    junit: Flags.string({summary: 'Write a JUnit XML report to this file.'}),
  }

  async run(): Promise<Omit<VerifyReport, 'results'>> {
    const {argv} = await this.parse(Verify)
    const f = this.flags
    const {loadProject} = await import('../project/project.js')
    const {loadCatalogue} = await import('../catalogue/catalogue.js')
    const {verifyContracts} = await import('../contracts/verify.js')
    const {formatResult, formatVerifyReport, writeVerifyJunit} = await import('../contracts/report.js')
    const conn = await this.connection()
    const interrupts = interruptScope()
    const failUnknown = !f['allow-unknown']
    const report = await verifyContracts({
      amqpUrl: conn.amqpUrl,
      managementUrl: conn.managementUrl,
      vhost: conn.vhost,
      targets: [
        ...(argv as string[]).filter((a) => a !== '').map((name) => ({name})),
        ...(f.exchange ?? []).map((name) => ({name, kind: 'exchange' as const})),
        ...(f.queue ?? []).map((name) => ({name, kind: 'queue' as const})),
      ],
      catalogue: loadCatalogue(),
      envelope: (f.envelope ?? loadProject().publish.envelope ?? 'standard') as EnvelopeKind,
      count: f.count,
      timeoutSeconds: f.timeout,
      idleSeconds: f.idle,
      failUnknown,
      signal: interrupts.signal,
      onResult: (r) => {
        if (r.status === 'invalid' || (failUnknown && r.status === 'unknown')) this.info(formatResult(r))
      },
      log: (line) => this.info(line),
    }).finally(() => interrupts.dispose())
    if (f.junit) await writeVerifyJunit(report, f.junit)
    if (!this.jsonEnabled()) this.log(formatVerifyReport(report))
    const {results: _all, ...rest} = report
    if (report.problem) {
      process.exitCode = 1
      this.info(`Error: ${report.problem}`)
    }
    return rest
  }
}
