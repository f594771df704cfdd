import {UsageError} from '../errors.js'
import {ManagementClient} from '../management/client.js'
import type {Paint} from '../report/terminal.js'
import {compileRoutingFilter, compileWhere} from './filters.js'
import {planTaps, type TapPlan} from './plan.js'
import {fixtureEntities, liveEntities, type ResolvedTarget, resolveTargets, type TargetRequest} from './resolve.js'
import {type OutputMode, TailSession} from './session.js'

export {compileRoutingFilter, compileWhere, type WhereView} from './filters.js'
export {deathLines, decodeBody, ndjsonLine, prettyLine} from './format.js'
export {headerArguments, type TapBinding, type TapMode, type TapPlan} from './plan.js'
export {
  type ResolvedTarget,
  resolveTargets,
  type TargetKind,
  type TargetRequest,
  type TopologyEntity,
} from './resolve.js'
export {type OutputMode, type StopReason, type TailOptions, TailSession, type TailSummary} from './session.js'
export {formatSummary, unmetCount} from './summary.js'

export interface StartTailOptions {
  amqpUrl: string
  managementUrl: string
  /** Resolve names within this vhost only. */
  vhost?: string
  targets: TargetRequest[]
  bindingPatterns?: string[]
  consume?: boolean
  requeue?: boolean
  filter?: string[]
  where?: string[]
  count?: number
  timeoutSeconds?: number
  idleSeconds?: number
  prefetch?: number
  output?: OutputMode
  paint?: Paint
  previewWidth?: number
  /** The terminal's width, on a TTY: previews then fill the line without wrapping it. */
  lineWidth?: number
  out?: NodeJS.WritableStream
  /** Status lines (default: stderr). */
  log?: (line: string) => void
  /** Fixture files for name suggestions (default: the packaged topology). */
  topologyFiles?: string[]
}

/**
 * Resolve the targets, declare the taps and start reading: the whole of `evt tail` without the CLI.
 * Await `session.done` for the summary; call `session.stop('signal')` to end it early.
 */
export async function startTail(options: StartTailOptions): Promise<{session: TailSession; plans: TapPlan[]}> {
  if (options.targets.length === 0) {
    throw new UsageError('name at least one exchange or queue to tail', 'e.g. `evt tail customers`')
  }
  if (options.requeue && !options.consume) {
    throw new UsageError(
      '--requeue only applies with --consume',
      'Use --consume --requeue to browse a queue and put its messages back',
    )
  }
  if (options.consume && !options.requeue && ((options.filter?.length ?? 0) > 0 || (options.where?.length ?? 0) > 0)) {
    throw new UsageError(
      '--consume takes every message of the queue, so --filter / --where would destroy messages you never see',
      'Filter a non-destructive tap (drop --consume), or browse with --consume --requeue',
    )
  }
  const prefetch = options.prefetch ?? 1000
  const routingFilter = compileRoutingFilter(options.filter ?? [])
  const where = compileWhere(options.where ?? [])
  const api = new ManagementClient(options.managementUrl)
  const live = await liveEntities(api, options.vhost)
  let targets: ResolvedTarget[]
  try {
    targets = resolveTargets(options.targets, live, options.vhost)
  } catch (err) {
    // The fixture (slow to load and validate) is only read to explain a miss: suggestions, "not provisioned".
    const fixture = await fixtureEntities(options.topologyFiles)
    if (fixture.length === 0) throw err
    targets = resolveTargets(options.targets, [...live, ...fixture], options.vhost)
  }
  const plans = await planTaps(api, targets, {
    bindingPatterns: options.bindingPatterns ?? [],
    consume: options.consume ?? false,
    requeue: options.requeue ?? false,
    prefetch,
  })
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const session = new TailSession({
    amqpUrl: options.amqpUrl,
    plans,
    output: options.output ?? 'json',
    paint: options.paint ?? ((_c, t) => t),
    previewWidth: options.previewWidth ?? 100,
    lineWidth: options.lineWidth,
    routingFilter,
    where,
    count: options.count,
    timeoutSeconds: options.timeoutSeconds,
    idleSeconds: options.idleSeconds,
    prefetch,
    out: options.out ?? process.stdout,
    log,
  })
  await session.start()
  for (const plan of plans) log(plan.header)
  return {session, plans}
}
