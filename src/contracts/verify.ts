import type {Catalogue} from '../catalogue/catalogue.js'
import type {EnvelopeKind} from '../catalogue/types.js'
import type {StopReason, TargetRequest} from '../tail/index.js'
import {checkMessage, type MessageResult, type TappedMessage} from './check.js'
import {tapMessages} from './tap.js'

export interface VerifyOptions {
  amqpUrl: string
  managementUrl: string
  vhost?: string
  targets: TargetRequest[]
  catalogue: Catalogue
  envelope: EnvelopeKind
  count?: number
  timeoutSeconds?: number
  idleSeconds?: number
  /** Fail on messages the catalogue does not know (default true). */
  failUnknown?: boolean
  signal?: AbortSignal
  /** Each checked message, as it is checked. */
  onResult?: (result: MessageResult) => void
  /** Status lines (the taps declared): default none. */
  log?: (line: string) => void
}

export interface VerifyReport {
  targets: string[]
  envelope: EnvelopeKind
  messages: number
  valid: number
  invalid: number
  unknown: number
  reason: StopReason
  seconds: number
  /** Checked messages per type (or routing key for unknown ones): valid / invalid. */
  byType: Record<string, {valid: number; invalid: number}>
  /** Every message that failed, with its violations. */
  failures: MessageResult[]
  results: MessageResult[]
  /** Why the run failed, when it did (exit 1). */
  problem?: string
}

/**
 * `evt verify`: tap the exchanges/queues (non-destructively, through the tail module), check every message
 * against the catalogue schema of its type or routing key, and report the violations with their JSON paths.
 */
export async function verifyContracts(options: VerifyOptions): Promise<VerifyReport> {
  const types = options.catalogue.list()
  const results: MessageResult[] = []
  let pending = Promise.resolve()
  const summary = await tapMessages<TappedMessage>(
    {
      amqpUrl: options.amqpUrl,
      managementUrl: options.managementUrl,
      vhost: options.vhost,
      targets: options.targets,
      count: options.count,
      timeoutSeconds: options.timeoutSeconds,
      idleSeconds: options.idleSeconds,
      log: options.log,
      signal: options.signal,
    },
    (msg) => {
      // Checks run in arrival order; the first compiles the type's validator.
      pending = pending.then(async () => {
        const result = await checkMessage(types, msg, options.envelope)
        results.push(result)
        options.onResult?.(result)
      })
    },
  )
  await pending

  const byType: VerifyReport['byType'] = {}
  for (const r of results) {
    const key = r.type ?? `(unknown) ${r.exchange} ${r.routingKey}`
    byType[key] ??= {valid: 0, invalid: 0}
    if (r.status === 'valid') byType[key].valid++
    else byType[key].invalid++
  }
  const count = (s: MessageResult['status']) => results.filter((r) => r.status === s).length
  const failUnknown = options.failUnknown ?? true
  const failures = results.filter((r) => r.status === 'invalid' || (failUnknown && r.status === 'unknown'))
  const report: VerifyReport = {
    targets: options.targets.map((t) => t.name),
    envelope: options.envelope,
    messages: results.length,
    valid: count('valid'),
    invalid: count('invalid'),
    unknown: count('unknown'),
    reason: summary.reason,
    seconds: summary.seconds,
    byType,
    failures,
    results,
  }
  if (failures.length > 0) report.problem = `${failures.length} of ${results.length} messages break the contract`
  else if (results.length === 0) report.problem = 'no message came in: nothing was verified'
  else if (options.count !== undefined && results.length < options.count)
    report.problem = `only ${results.length} of ${options.count} messages came in before the ${summary.reason}`
  return report
}
