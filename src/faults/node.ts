import type {ClusterBroker} from '../broker/cluster-base.js'
import {attachBroker} from '../broker/index.js'
import {saveBrokerRecord} from '../broker/lifecycle.js'
import {acquireLease, brokerLeaseDir, describeHolders} from '../config/lease.js'
import {readBrokerRecord} from '../config/state.js'
import {UnreachableError, UsageError} from '../errors.js'
import {waitFor} from '../util/time.js'

export const NODE_ACTIONS = ['stop', 'start', 'kill', 'restart', 'partition', 'heal'] as const
export type NodeAction = (typeof NODE_ACTIONS)[number]

/** Which node: its number (1-based) or the one hosting the leader of a queue. */
export type NodeTarget = {index: number} | {leaderOf: string; vhost: string}

/** `2`, `n2`, or `leader-of:orders` (vhost from --vhost, default /). */
export function parseNodeTarget(text: string, vhost = '/'): NodeTarget {
  const leader = /^leader-of:(.+)$/.exec(text)
  if (leader) return {leaderOf: leader[1], vhost}
  const n = /^n?(\d+)$/.exec(text)
  if (n) return {index: Number(n[1])}
  throw new UsageError(`"${text}" names no node`, 'Give a node number (1, 2, 3) or leader-of:<queue>')
}

export interface NodeFaultResult {
  action: NodeAction
  index: number
  node: string
  seconds: number
  /** leader-of: the queue, its leader before, and (after stop/kill/partition) the new leader. */
  queue?: string
  leaderBefore?: string
  leaderAfter?: string
  leaderSeconds?: number
  queueType?: string
  /** heal: the node did not rejoin within healWaitMs and was restarted (see docs/cluster.md). */
  restartedAfterHeal?: boolean
}

/** How long heal waits for the cut-off node to rejoin before it restarts it. */
export const HEAL_WAIT_MS = 20_000

/** Resolve the target to a member number. */
export async function resolveNode(cluster: ClusterBroker, target: NodeTarget): Promise<number> {
  if ('index' in target) {
    return cluster.checkNode(target.index)
  }
  return cluster.leaderOf(target.leaderOf, target.vhost)
}

/**
 * Wait until the queue's leader is a running member other than `old`; resolves its name and how long it
 * took, or undefined after timeoutMs.
 */
export async function awaitNewLeader(
  cluster: ClusterBroker,
  queue: string,
  vhost: string,
  old: number,
  timeoutMs = 30_000,
): Promise<{index: number; name: string; seconds: number} | undefined> {
  const started = Date.now()
  let found: number | undefined
  await waitFor(
    async () => {
      try {
        const q = await cluster.quorumQueue(queue, vhost)
        const i = q.leader ? cluster.indexOf(q.leader) : undefined
        if (i && i !== old && q.online.includes(q.leader ?? '')) {
          found = i
          return true
        }
      } catch {
        // a node is going down: ask again
      }
      return false
    },
    {timeoutMs, intervalMs: 50},
  )
  if (!found) return undefined
  return {index: found, name: cluster.nodeNames[found - 1], seconds: (Date.now() - started) / 1000}
}

/**
 * Do one fault to one member: stop (graceful), start, kill (SIGKILL, nothing restarts it), restart
 * (graceful stop, start, wait until the cluster sees it running), partition (cut its distribution traffic),
 * heal (remove the cut). With leader-of, the queue's new leader is named after stop/kill/partition.
 */
export async function nodeFault(
  cluster: ClusterBroker,
  action: NodeAction,
  target: NodeTarget,
  /** Called just before the fault is done (a load marks the time it measures resumption from). */
  beforeAction?: () => void,
  healWaitMs = HEAL_WAIT_MS,
): Promise<NodeFaultResult> {
  const index = await resolveNode(cluster, target)
  const name = cluster.nodeNames[index - 1]
  const result: NodeFaultResult = {action, index, node: name, seconds: 0}
  if ('leaderOf' in target) {
    result.queue = target.leaderOf
    result.leaderBefore = name
  }
  // Only a quorum queue elects a new leader; a classic queue waits for its node (nothing to wait for here).
  const quorum =
    'leaderOf' in target &&
    (await cluster.api().then((api) =>
      api
        .get<{type?: string}>(`/queues/${encodeURIComponent(target.vhost)}/${encodeURIComponent(target.leaderOf)}`)
        .then((q) => q.type === 'quorum')
        .catch(() => false),
    ))
  const started = Date.now()
  // A cut is in effect once the packet filter is in place: resumption is timed from there (a publish
  // confirmed while the rules were being written was not published under the partition).
  if (action !== 'partition') beforeAction?.()
  switch (action) {
    case 'stop':
      await cluster.stopNode(index)
      break
    case 'start':
      await cluster.startNode(index)
      break
    case 'kill':
      await cluster.killNode(index)
      break
    case 'restart':
      await cluster.restartNode(index)
      break
    case 'partition':
      await cluster.partitionNode(index)
      beforeAction?.()
      break
    case 'heal': {
      await cluster.healNode(index)
      // The cut-off node resumes by itself once it sees the majority. On RabbitMQ 3.10 / OTP 25 it sometimes
      // stays in its restart, waiting for Mnesia tables the others will not give it: the documented remedy
      // is a restart of that node, done here after healWaitMs and reported.
      // Back means every node's view is whole again (a node the others count as running may itself still see
      // a partition, and then hangs cluster-wide operations such as creating a vhost).
      const whole = () => cluster.wholeInEveryView().catch(() => false)
      const back = await waitFor(whole, {timeoutMs: healWaitMs, intervalMs: 200})
      if (!back) {
        await cluster.killNode(index)
        await cluster.startNode(index)
        result.restartedAfterHeal = true
        await waitFor(whole, {timeoutMs: 60_000, intervalMs: 200})
      }
      break
    }
  }
  result.seconds = (Date.now() - started) / 1000
  if ('leaderOf' in target) result.queueType = quorum ? 'quorum' : 'classic'
  if ('leaderOf' in target && quorum && (action === 'stop' || action === 'kill' || action === 'partition')) {
    const next = await awaitNewLeader(cluster, target.leaderOf, target.vhost, index)
    result.leaderAfter = next?.name
    result.leaderSeconds = next ? (Date.now() - started) / 1000 : undefined
  }
  return result
}

/**
 * `evt node ACTION NODE` minus oclif: find the recorded cluster, act on one node, and keep the record in step
 * (the member's pids change).
 */
export async function runNodeFault(input: {
  home: string
  name: string
  action: NodeAction
  node: string
  vhost?: string
  /** Called once when a scenario run (or `evt down`) holds the broker and the fault waits for it. */
  onWait?: (message: string) => void
  /** How long to wait for those (default 10 minutes), then exit 3. */
  waitMs?: number
}): Promise<NodeFaultResult> {
  // A fault never lands in the middle of a scenario's verdict or an `evt down`: it holds the broker alone.
  const release = await acquireLease(await brokerLeaseDir(input.home, input.name), {
    exclusive: true,
    what: `evt node ${input.action} ${input.node}`,
    subject: `broker "${input.name}"`,
    timeoutMs: input.waitMs,
    onWait: (holders) => input.onWait?.(`waiting for broker "${input.name}": ${describeHolders(holders)} is using it`),
    busyHint: 'Wait for that run to finish, or pass a longer --wait-seconds',
  })
  try {
    return await nodeFaultLocked(input)
  } finally {
    await release()
  }
}

async function nodeFaultLocked(input: {home: string; name: string; action: NodeAction; node: string; vhost?: string}) {
  const record = await readBrokerRecord(input.home, input.name)
  if (!record)
    throw new UnreachableError(
      `no broker "${input.name}" is recorded in ${input.home}`,
      'Start a cluster with `evt up --nodes 3`, or pass the --name it was started with',
    )
  if (!record.cluster)
    throw new UsageError(
      `broker "${input.name}" is a single node, not a cluster`,
      'Start a cluster with `evt up --nodes 3`',
    )
  const cluster = attachBroker(record) as ClusterBroker
  const result = await nodeFault(cluster, input.action, parseNodeTarget(input.node, input.vhost ?? '/'))
  await saveBrokerRecord(input.home, cluster.record)
  return result
}
