import {ClusterBroker} from '../../broker/cluster-base.js'
import {UsageError} from '../../errors.js'
import {LedgerLoad} from '../../faults/load.js'
import {awaitNewLeader, type NodeAction, nodeFault, parseNodeTarget, resolveNode} from '../../faults/node.js'
import {waitFor} from '../../util/time.js'
import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'

/**
 * Cluster steps (scenarios with `requires: [cluster]`):
 *   ledger-start  publish with confirms and consume one queue in the background, every id in a ledger
 *   ledger-stop   stop publishing, drain, and return the ledger's verdict (lost, unexpected, duplicates ...)
 *   node-fault    stop / start / kill / restart / partition / heal a node (a number or leader-of:<queue>)
 *   rolling-restart  restart every node in turn, waiting for quorum health between
 *   await-quorum  wait until every node runs and every member of a quorum queue is online
 */

const loads = new WeakMap<ScenarioContext, LedgerLoad>()

function clusterOf(ctx: ScenarioContext): ClusterBroker {
  if (!(ctx.broker instanceof ClusterBroker)) {
    throw new UsageError(
      'this step needs a cluster evt started',
      'Run `evt up --nodes 3` first, or add requires: [cluster]',
    )
  }
  return ctx.broker
}

export async function ledgerStart(ctx: ScenarioContext, args: Spec) {
  const cluster = clusterOf(ctx)
  if (loads.has(ctx)) throw new UsageError(`${args.where}: a ledger load is already running`)
  // publisherNode: a number, auto (node 2), or leader-of:<queue> (the node hosting its leader now).
  const pinned = args.has('publisherNode') ? args.str('publisherNode') : 'auto'
  const publisherNode = pinned === 'auto' ? undefined : await resolveNode(cluster, parseNodeTarget(pinned, ctx.vhost))
  const load = new LedgerLoad({
    urls: ctx.amqpUrls,
    queue: args.str('queue'),
    rate: args.num('rate', 200),
    window: args.num('window', 50),
    publisherNode,
    publisherReconnect: args.bool('publisherReconnect', true),
    consumerNode: args.has('consumerNode') ? args.num('consumerNode') : undefined,
  })
  loads.set(ctx, load)
  await load.start()
  return {started: true}
}

export async function ledgerStop(ctx: ScenarioContext, args: Spec) {
  const load = loads.get(ctx)
  if (!load) throw new UsageError(`${args.where}: no ledger-start before this step`)
  loads.delete(ctx)
  const r = await load.stop({drainMs: args.num('drainMs', 60_000), quietMs: args.num('quietMs', 3000)})
  const resumed = r.resumeSeconds.filter((x): x is number => x !== null)
  return {
    ...r,
    /** The slowest resume after a fault (-1 when publishing never resumed after one). */
    resumeMaxSeconds: r.resumeSeconds.some((x) => x === null) ? -1 : Math.max(0, ...resumed),
  }
}

/**
 * Wait (polling, never a fixed sleep) until `confirmed` more publishes have been confirmed than when the
 * step began: the load has run that far, or (after a fault) publishing goes on. reached is false after
 * timeoutMs.
 */
export async function ledgerWait(ctx: ScenarioContext, args: Spec) {
  const load = loads.get(ctx)
  if (!load) throw new UsageError(`${args.where}: no ledger-start before this step`)
  const from = load.ledger.confirmedCount
  const want = args.num('confirmed')
  const started = Date.now()
  const reached = await waitFor(async () => load.ledger.confirmedCount - from >= want, {
    timeoutMs: args.num('timeoutMs', 30_000),
    intervalMs: 100,
    signal: ctx.signal,
  })
  return {reached, confirmed: load.ledger.confirmedCount - from, seconds: (Date.now() - started) / 1000}
}

/** Nodes a scenario cut off and has not healed yet. */
const cuts = new WeakMap<ScenarioContext, Set<string>>()
/** Nodes (1..N) a scenario stopped or killed and has not started again. */
const downed = new WeakMap<ScenarioContext, Set<number>>()

/**
 * The end of every scenario (passed, failed, errored, interrupted): heal what it cut, start what it
 * stopped or killed, stop its background load. The next scenario finds the cluster whole.
 */
export async function cleanupCluster(ctx: ScenarioContext): Promise<void> {
  // Interrupted (Ctrl-C, SIGTERM): remove the cuts and stop the load, quickly; nodes left down are for
  // `evt up` to start (it starts what is down), not for a process that was asked to end.
  const interrupted = ctx.signal?.aborted === true
  const cluster = ctx.broker instanceof ClusterBroker ? ctx.broker : undefined
  const cut = cuts.get(ctx)
  if (cut && cut.size > 0) {
    for (const node of cut) {
      const index = cluster?.indexOf(node)
      if (!cluster || !index) continue
      // A heal as the heal step does it: wait for the node to rejoin, restart it if it stays stuck.
      if (!interrupted)
        await nodeFault(cluster, 'heal', {index}).catch(() => cluster.healNode(index).catch(() => undefined))
      else await cluster.healNode(index).catch(() => undefined)
    }
    cuts.delete(ctx)
    if (cluster && !interrupted) await ctx.onRestart?.(cluster)
  }
  const down = downed.get(ctx)
  if (cluster && down && down.size > 0 && !interrupted) {
    for (const i of down) await cluster.startNode(i).catch(() => undefined)
    downed.delete(ctx)
    await ctx.onRestart?.(cluster)
  }
  const load = loads.get(ctx)
  if (!load) return
  loads.delete(ctx)
  await load.stop({drainMs: 1, quietMs: 1}).catch(() => undefined)
}

export async function nodeFaultStep(ctx: ScenarioContext, args: Spec) {
  const cluster = clusterOf(ctx)
  const action = args.str('action') as NodeAction
  const target = parseNodeTarget(args.str('node'), ctx.vhost)
  const load = loads.get(ctx)
  // Publishing is timed from each fault (not from a start or a heal) until it resumes.
  const fault = action === 'stop' || action === 'kill' || action === 'partition' || action === 'restart'
  const result = await nodeFault(cluster, action, target, () => (fault ? load?.mark() : undefined))
  const cut = cuts.get(ctx) ?? new Set<string>()
  cuts.set(ctx, cut)
  if (action === 'partition') cut.add(result.node)
  if (action === 'heal') cut.delete(result.node)
  const down = downed.get(ctx) ?? new Set<number>()
  downed.set(ctx, down)
  if (action === 'stop' || action === 'kill') down.add(result.index)
  if (action === 'start' || action === 'restart') down.delete(result.index)
  await ctx.onRestart?.(cluster)
  const queue = 'leaderOf' in target ? target.leaderOf : undefined
  return {
    ...result,
    leaderAfter: result.leaderAfter ?? null,
    leaderSeconds: result.leaderSeconds ?? null,
    /** Whether a new leader was found on another node (false for a classic queue: it has none). */
    newLeader: Boolean(result.leaderAfter && result.leaderAfter !== result.leaderBefore),
    queue: queue ?? null,
    restartedAfterHeal: result.restartedAfterHeal ?? false,
  }
}

/** Every node running, and (given queues) every member of each quorum queue online with a leader. */
async function quorumHealthy(cluster: ClusterBroker, queues: string[], vhost: string): Promise<boolean> {
  if (!(await cluster.wholeInEveryView().catch(() => false))) return false
  for (const q of queues) {
    const info = await cluster.quorumQueue(q, vhost).catch(() => undefined)
    if (!info) return false
    // A classic queue has no leader or members: being reachable on a whole cluster is all it can be.
    if (info.members.length === 0) continue
    if (!info.leader || info.online.length < info.members.length) return false
  }
  return true
}

/** Nodes (1..N) that run but host a member of one of the quorum queues that is not online. */
async function stuckMembers(cluster: ClusterBroker, queues: string[], vhost: string): Promise<number[]> {
  const running = await cluster.nodesRunning()
  const stuck = new Set<number>()
  for (const q of queues) {
    const info = await cluster.quorumQueue(q, vhost).catch(() => undefined)
    for (const member of info?.members ?? []) {
      const i = cluster.indexOf(member)
      if (i && running[i - 1] && !info?.online.includes(member)) stuck.add(i)
    }
  }
  return [...stuck]
}

/**
 * Wait until every node runs and every member of the queues is online. On RabbitMQ 3.10 a node back from a
 * pause_minority partition sometimes runs with its quorum members stopped: after stuckAfterMs the nodes
 * hosting such members are restarted once (the documented remedy), and reported.
 */
export async function awaitQuorum(ctx: ScenarioContext, args: Spec) {
  const cluster = clusterOf(ctx)
  const queues = args.strList('queues')
  const started = Date.now()
  const timeoutMs = args.num('timeoutMs', 60_000)
  const healthy = () => quorumHealthy(cluster, queues, ctx.vhost)
  const look = (ms: number) => waitFor(healthy, {timeoutMs: ms, intervalMs: 200, signal: ctx.signal})
  let ok = await look(Math.min(timeoutMs, args.num('stuckAfterMs', 15_000)))
  const restarted: number[] = []
  if (!ok && Date.now() - started < timeoutMs) {
    for (const i of await stuckMembers(cluster, queues, ctx.vhost)) {
      await cluster.restartNode(i)
      restarted.push(i)
    }
    if (restarted.length > 0) await ctx.onRestart?.(cluster)
    ok = await look(Math.max(0, timeoutMs - (Date.now() - started)))
  }
  return {healthy: ok, seconds: (Date.now() - started) / 1000, restartedStuck: restarted}
}

/**
 * Restart each node in turn (graceful stop, start, rejoin), waiting before each for the cluster and the
 * quorum queues to be healthy, as a rolling upgrade does.
 */
export async function rollingRestart(ctx: ScenarioContext, args: Spec) {
  const cluster = clusterOf(ctx)
  const queues = args.strList('queues')
  const started = Date.now()
  const perNode: {node: number; seconds: number; healthyAfterSeconds: number}[] = []
  let allHealthy = true
  for (let i = 1; i <= cluster.size; i++) {
    const t = Date.now()
    loads.get(ctx)?.mark()
    await cluster.restartNode(i)
    await ctx.onRestart?.(cluster)
    const restarted = (Date.now() - t) / 1000
    const healthTimeoutMs = args.num('healthTimeoutMs', 60_000)
    // No wait (0) establishes nothing: one look right after a restart is a race between the restart's own
    // length and the members catching up, so it counts as not shown healthy.
    const healthy =
      healthTimeoutMs > 0 &&
      (await waitFor(() => quorumHealthy(cluster, queues, ctx.vhost), {
        timeoutMs: healthTimeoutMs,
        intervalMs: 200,
        signal: ctx.signal,
      }))
    if (!healthy) allHealthy = false
    perNode.push({node: i, seconds: restarted, healthyAfterSeconds: (Date.now() - t) / 1000})
  }
  return {seconds: (Date.now() - started) / 1000, perNode, allHealthy, nodes: cluster.size}
}

/** Whether a node serves AMQP now (a paused minority node or a stopped one does not); other: the next node. */
export async function nodeProbe(ctx: ScenarioContext, args: Spec) {
  const cluster = clusterOf(ctx)
  const given = args.num('node')
  const index = args.bool('other') ? (given % cluster.size) + 1 : given
  const {amqpAnswers} = await import('../../broker/probe.js')
  const {host, port} = cluster.amqpAddress(index)
  const serving = await amqpAnswers(host, port, 1000)
  const members = await cluster.membersStatus(index).catch(() => [])
  return {node: index, serving, runningInCluster: members.find((m) => m.index === index)?.running ?? false}
}

/**
 * Look at a queue through one node (by default the first node that is not `avoid`): available with its
 * message count, or not (its home node is down, its quorum lost) with the broker's reason.
 */
export async function queueProbe(ctx: ScenarioContext, args: Spec) {
  const cluster = clusterOf(ctx)
  const queue = args.str('queue')
  const avoid = args.has('avoid') ? args.num('avoid') : undefined
  const via = args.has('via')
    ? args.num('via')
    : [...Array(cluster.size).keys()].map((i) => i + 1).find((i) => i !== avoid)
  const {connectAmqp} = await import('../../amqp/connect.js')
  const url = ctx.amqpUrls[(via ?? 1) - 1]
  const conn = await connectAmqp(url, {connectionName: `evt scenario ${ctx.vhost} probe`, timeoutMs: 3000})
  conn.on('error', () => {})
  try {
    const ch = await conn.createChannel()
    ch.on('error', () => {})
    // A passive declare succeeds for a classic queue whose node is down (the record exists); a get does not.
    const got = await ch.get(queue, {noAck: false})
    if (got) ch.nack(got, false, true)
    const ok = await ch.checkQueue(queue)
    return {available: true, via, messages: ok.messageCount + (got ? 1 : 0), error: null}
  } catch (err) {
    return {
      available: false,
      via,
      messages: null,
      error: err instanceof Error ? err.message.slice(0, 160) : String(err),
    }
  } finally {
    await conn.close().catch(() => {})
  }
}

export {awaitNewLeader}
