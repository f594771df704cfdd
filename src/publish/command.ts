import {readFile} from 'node:fs/promises'
import {loadCatalogue} from '../catalogue/catalogue.js'
import {type Overrides, parseSetFlag} from '../catalogue/generate.js'
import type {EnvelopeKind, EventType} from '../catalogue/types.js'
import type {ConnectionSettings} from '../config/resolve.js'
import {UsageError} from '../errors.js'
import {createProgress} from '../report/progress.js'
import {pickEvents} from './picker.js'
import {type PublishSummary, publishEvents} from './publisher.js'
import {formatPublishSummary, publishProblems} from './report.js'

export interface PublishCommandFlags {
  all: boolean
  count: number
  rate?: string
  seed?: number
  data?: string
  set?: string[]
  envelope: string
  transient: boolean
  confirm: boolean
  mandatory: boolean
  tenant?: string
  'correlation-id'?: string
  'confirm-window': number
  'data-pool': number
  'reconnect-timeout': number
}

const USAGE = 'Usage: evt publish TYPE... [--count N] (or --all). List the types with `evt events`'

/** `evt publish` minus oclif: flags in, summary and its human text out. */
export async function runPublishCommand(input: {
  names: string[]
  flags: PublishCommandFlags
  connection: ConnectionSettings
  canPrompt: boolean
  json: boolean
  notice: (message: string) => void
}): Promise<{summary: PublishSummary; text: string; problem?: string}> {
  const {flags} = input
  const catalogue = loadCatalogue()
  let types: EventType[]
  let count = flags.count
  if (flags.all) types = catalogue.list()
  else if (input.names.length > 0) types = catalogue.resolveAll(input.names)
  else if (input.canPrompt) ({types, count} = await pickEvents(catalogue))
  else throw new UsageError('no event type given', USAGE)

  const rate = flags.rate === undefined ? undefined : Number(flags.rate)
  if (rate !== undefined && !(rate > 0)) throw new UsageError(`--rate must be a positive number, got "${flags.rate}"`)
  const overrides = await readOverrides(flags)

  const total = types.length * count
  const bar = createProgress({total, label: 'publishing', json: input.json})
  // Ctrl-C stops publishing, waits for the confirms in flight, and still reports (exit 1).
  const abort = new AbortController()
  const onSigint = () => abort.abort()
  process.once('SIGINT', onSigint)
  const summary = await publishEvents({
    url: input.connection.amqpUrl,
    vhost: input.connection.vhost,
    types,
    count,
    rate,
    seed: flags.seed,
    overrides,
    envelope: flags.envelope as EnvelopeKind,
    tenant: flags.tenant,
    correlationId: flags['correlation-id'],
    persistent: !flags.transient,
    confirm: flags.confirm,
    mandatory: flags.mandatory,
    confirmWindow: flags['confirm-window'],
    dataPool: flags['data-pool'],
    reconnectTimeoutMs: flags['reconnect-timeout'] * 1000,
    onProgress: (p) => bar.update(flags.confirm ? p.settled : p.published),
    onNotice: input.notice,
    signal: abort.signal,
  }).finally(() => {
    bar.stop()
    process.off('SIGINT', onSigint)
  })
  return {summary, text: formatPublishSummary(summary), problem: publishProblems(summary)}
}

async function readOverrides(flags: PublishCommandFlags): Promise<Overrides | undefined> {
  const overrides: Overrides = {}
  if (flags.data !== undefined) {
    let text = flags.data
    if (text.startsWith('@')) {
      try {
        text = await readFile(text.slice(1), 'utf8')
      } catch (err) {
        throw new UsageError(`cannot read --data file ${text.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? err}`)
      }
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw new UsageError(`--data is not valid JSON: ${(err as Error).message}`, 'Pass a JSON object, or @file.json')
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new UsageError('--data must be a JSON object (it is merged into the event data)')
    overrides.data = parsed as Record<string, unknown>
  }
  if (flags.set?.length) overrides.set = flags.set.map(parseSetFlag)
  return overrides.data || overrides.set ? overrides : undefined
}
