import {readFile} from 'node:fs/promises'
import {loadCatalogue} from '../catalogue/catalogue.js'
import {type Overrides, parseSetFlag} from '../catalogue/generate.js'
import type {EnvelopeKind, EventType} from '../catalogue/types.js'
import {type ConnectionSettings, otherNodeUrls} from '../config/resolve.js'
import {UsageError} from '../errors.js'
import {loadProject} from '../project/project.js'
import {createProgress} from '../ui/progress.js'
import {interruptScope} from '../util/signals.js'
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
  envelope?: string
  transient: boolean
  confirm: boolean
  mandatory: boolean
  tenant?: string
  'correlation-id'?: string
  'confirm-window': number
  'data-pool': number
  'reconnect-timeout': number
  from?: string
  speed?: string
  exchange?: string
  'routing-key'?: string
}

const USAGE = 'Usage: evt publish TYPE... [--count N] (or --all). List the types with `evt events`'

/** `evt publish` minus oclif: flags in, summary and its human text out (no text under --json). */
export async function runPublishCommand(input: {
  names: string[]
  flags: PublishCommandFlags
  connection: ConnectionSettings
  canPrompt: boolean
  json: boolean
  notice: (message: string) => void
}): Promise<{summary: PublishSummary; text: string; problem?: string}> {
  const {flags} = input
  if (flags.from !== undefined) return replayCommand(input)
  if (flags.speed !== undefined || flags.exchange !== undefined || flags['routing-key'] !== undefined) {
    throw new UsageError('--speed, --exchange and --routing-key apply to --from FILE', USAGE)
  }
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
  const interrupts = interruptScope()
  const summary = await publishEvents({
    url: input.connection.amqpUrl,
    otherNodeUrls: otherNodeUrls(input.connection),
    vhost: input.connection.vhost,
    types,
    count,
    rate,
    seed: flags.seed,
    overrides,
    // evt.yaml `publish:` gives the defaults a flag overrides.
    envelope: (flags.envelope ?? loadProject().publish.envelope ?? 'standard') as EnvelopeKind,
    tenant: flags.tenant ?? loadProject().publish.tenant,
    correlationId: flags['correlation-id'],
    persistent: !flags.transient,
    confirm: flags.confirm,
    mandatory: flags.mandatory,
    confirmWindow: flags['confirm-window'],
    dataPool: flags['data-pool'],
    reconnectTimeoutMs: flags['reconnect-timeout'] * 1000,
    onProgress: (p) => bar.update(flags.confirm ? p.settled : p.published),
    onNotice: input.notice,
    signal: interrupts.signal,
  }).finally(() => {
    bar.stop()
    interrupts.dispose()
  })
  return {summary, text: input.json ? '' : formatPublishSummary(summary), problem: publishProblems(summary)}
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

/** `evt publish --from FILE.ndjson`: replay a recording with the same confirm accounting. */
async function replayCommand(input: {
  names: string[]
  flags: PublishCommandFlags
  connection: ConnectionSettings
  json: boolean
  notice: (message: string) => void
}): Promise<{summary: PublishSummary; text: string; problem?: string}> {
  const {flags} = input
  if (input.names.length > 0 || flags.all) {
    throw new UsageError(
      '--from replays a recording: give no event type with it',
      'e.g. `evt publish --from saved.ndjson`',
    )
  }
  const speed = flags.speed === undefined ? undefined : Number(flags.speed)
  if (speed !== undefined && !(speed > 0)) {
    throw new UsageError(
      `--speed must be a positive number, got "${flags.speed}"`,
      '1 is the recorded pacing, 2 twice as fast',
    )
  }
  const {replayRecording, readRecording} = await import('./replay.js')
  const total = (await readRecording(flags.from as string)).length
  const bar = createProgress({total, label: 'replaying', json: input.json})
  const interrupts = interruptScope()
  const summary = await replayRecording({
    url: input.connection.amqpUrl,
    otherNodeUrls: otherNodeUrls(input.connection),
    file: flags.from as string,
    vhost: input.connection.vhost,
    exchange: flags.exchange,
    routingKey: flags['routing-key'],
    speed,
    confirm: flags.confirm,
    mandatory: flags.mandatory,
    confirmWindow: flags['confirm-window'],
    reconnectTimeoutMs: flags['reconnect-timeout'] * 1000,
    onProgress: (p) => bar.update(flags.confirm ? p.settled : p.published),
    onNotice: input.notice,
    signal: interrupts.signal,
  }).finally(() => {
    bar.stop()
    interrupts.dispose()
  })
  return {summary, text: input.json ? '' : formatPublishSummary(summary), problem: publishProblems(summary)}
}
