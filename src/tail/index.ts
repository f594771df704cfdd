import {createWriteStream, fstatSync, readFileSync} from 'node:fs'
import {UnreachableError, UsageError} from '../errors.js'
import {ManagementClient} from '../management/client.js'
import type {Paint} from '../ui/terminal.js'
import {compileRoutingFilter, compileWhere} from './filters.js'
import {OFFLINE_NOTICE, planOffline, resolveOffline} from './offline.js'
import {directKeys, planTaps, type TapPlan} from './plan.js'
import {
  fixtureEntities,
  liveEntities,
  type ResolvedTarget,
  resolveTargets,
  type TargetRequest,
  type TopologyEntity,
} from './resolve.js'
import {type OutputMode, TailSession} from './session.js'
import {acquireTracing, type TracingLease} from './tracing.js'

export {compileRoutingFilter, compileWhere, type WhereView} from './filters.js'
export {deathLines, decodeBody, hexDump, ndjsonLine, prettyLine, unwrapTrace} from './format.js'
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
  /** A cluster's other nodes: where taps are set up again when their node does not answer. */
  otherNodeUrls?: string[]
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
  /** --firehose: read every target through the firehose tracer. */
  firehose?: boolean
  /** --save FILE: keep every message shown (NDJSON, exact bodies) for `evt publish --from`. */
  save?: string
  /** See TailOptions.unreadCapacity (default: measured from stdout). */
  unreadCapacity?: number
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
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const planOptions = {
    bindingPatterns: options.bindingPatterns ?? [],
    consume: options.consume ?? false,
    requeue: options.requeue ?? false,
    prefetch,
    firehose: options.firehose,
  }
  let live: TopologyEntity[] | undefined
  try {
    live = await liveEntities(api, options.vhost)
  } catch (err) {
    // No management API (or not for this user): AMQP alone still taps what it can.
    if (!(err instanceof UnreachableError)) throw err
    log(OFFLINE_NOTICE)
  }
  let plans: TapPlan[]
  if (live === undefined) {
    plans = planOffline(await resolveOffline(options.amqpUrl, options.targets, options.vhost), planOptions)
  } else {
    let targets: ResolvedTarget[]
    try {
      targets = resolveTargets(options.targets, live, options.vhost)
    } catch (err) {
      // The fixture (slow to load and validate) is only read to explain a miss: suggestions, "not provisioned".
      const fixture = await fixtureEntities(options.topologyFiles)
      if (fixture.length === 0) throw err
      targets = resolveTargets(options.targets, [...live, ...fixture], options.vhost)
    }
    plans = await planTaps(api, targets, planOptions)
  }
  const offline = live === undefined
  // The firehose: on for each vhost that needs it, for the tail's life only; each tap queue is a lease.
  const leases = new Map<string, TracingLease>()
  const queueNames = new Map<TapPlan, string>()
  const releaseAll = async () => {
    for (const lease of leases.values()) await lease.release()
  }
  try {
    for (const plan of plans) {
      if (!plan.firehose || offline) continue
      const vhost = plan.target.vhost
      let lease = leases.get(vhost)
      if (!lease) {
        lease = await acquireTracing(api, options.managementUrl, vhost)
        leases.set(vhost, lease)
        plan.header = `${
          lease.turnedOn
            ? `firehose tracer turned ON for vhost ${vhost} while this tail runs (turned off again when it stops; tracing costs the broker some throughput)`
            : `firehose tracer already on for vhost ${vhost}${lease.restore ? ' (by another evt tail)' : ''}: left as it is`
        }\n${plan.header}`
      }
      const sameLease = [...queueNames.values()].filter((n) => n.startsWith(lease.queueName)).length
      queueNames.set(plan, sameLease === 0 ? lease.queueName : `${lease.queueName}.${sameLease}`)
    }
  } catch (err) {
    await releaseAll().catch(() => undefined)
    throw err
  }
  const save = options.save === undefined ? undefined : createWriteStream(options.save, {flags: 'w'})
  if (save) {
    await new Promise<void>((resolve, reject) => {
      save.once('open', () => resolve())
      save.once('error', (err) =>
        reject(
          new UsageError(`cannot write --save file ${options.save}: ${(err as NodeJS.ErrnoException).code ?? err}`),
        ),
      )
    })
  }
  const session = new TailSession({
    amqpUrl: options.amqpUrl,
    otherNodeUrls: options.otherNodeUrls,
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
    unreadCapacity: options.unreadCapacity ?? (options.out === undefined ? stdoutCapacity() : 0),
    save,
    queueNames,
    directKeys: offline ? undefined : (vhost, exchange) => directKeys(api, vhost, exchange),
    afterClose: releaseAll,
  })
  try {
    await session.start()
  } catch (err) {
    save?.destroy()
    await releaseAll().catch(() => undefined)
    throw err
  }
  for (const plan of plans) log(plan.header)
  return {session, plans}
}

/**
 * How many bytes a reader of stdout can leave unread when it goes away: a pipe's buffer (64 KiB on Linux), a
 * socket's send and receive buffers; 0 for a terminal or a file, where a written line is a read line.
 */
export function stdoutCapacity(fd = 1): number {
  try {
    const st = fstatSync(fd)
    if (st.isFIFO()) return 64 * 1024
    if (st.isSocket()) {
      const read = (f: string, fallback: number) => {
        try {
          return Number(readFileSync(f, 'utf8').trim()) || fallback
        } catch {
          return fallback
        }
      }
      return read('/proc/sys/net/core/wmem_max', 212_992) + read('/proc/sys/net/core/rmem_max', 212_992)
    }
  } catch {
    // unknown: treat as a terminal
  }
  return 0
}
