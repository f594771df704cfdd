import {UnreachableError, UsageError} from '../errors.js'
import {ManagementClient} from '../management/client.js'
import {waitFor} from '../util/time.js'
import {type BrokerRecord, RecordedBroker} from './types.js'

/** Erlang's tick: a lost peer is noticed within about this many seconds (RabbitMQ's own CI uses 5). */
export const CLUSTER_NET_TICKTIME = 5
/**
 * Every private node shares the machine's cores with other programs, so its schedulers are not pinned to cores.
 * RabbitMQ's default (`+stbt db`) pins each node's first scheduler to the first core: three nodes booting then
 * queue on one core while the other idles (a 3-node cluster took 10.9 s to be ready pinned, 9.1 s unpinned).
 */
export const PRIVATE_NODE_ERL_ARGS = '+stbt u'
/** Members share the machine's cores: schedulers that spin while idle take CPU the other members need. */
export const CLUSTER_MEMBER_ERL_ARGS = '+sbwt none +sbwtdcpu none +sbwtdio none'

/** Checks the number of nodes: 1, or an odd number from 3 (an even cluster has no majority after a split). */
export function validateNodeCount(nodes: number): number {
  if (!Number.isInteger(nodes) || nodes < 1 || (nodes > 1 && (nodes < 3 || nodes % 2 === 0)) || nodes > 9) {
    throw new UsageError(
      `--nodes ${nodes} is not a cluster size evt starts`,
      'Use 1 (one node), or an odd number from 3 to 9 (a majority must survive the loss of a node)',
    )
  }
  return nodes
}

/**
 * The rabbitmq.conf lines a member adds to the single-node ones. Node 1 forms the cluster alone; the others
 * are told (classic peer discovery) to join node 1 and to keep trying while it boots, so all nodes start
 * at once. A node with data already (a restart) skips discovery and rejoins the cluster it knows.
 */
export function clusterConfigLines(index: number, nodeNames: string[]): string[] {
  const lines = ['cluster_partition_handling = pause_minority']
  if (index === 0) return lines
  return [
    ...lines,
    'cluster_formation.peer_discovery_backend = classic_config',
    `cluster_formation.classic_config.nodes.1 = ${nodeNames[0]}`,
    'cluster_formation.discovery_retry_limit = 240',
    'cluster_formation.discovery_retry_interval = 250',
  ]
}

/** One member as /api/nodes shows it. */
export interface ClusterMember {
  index: number
  name: string
  running: boolean
  partitions: string[]
  alarms: string[]
}

/** A quorum queue's leader and members, as /api/queues shows them. */
export interface QuorumQueueInfo {
  vhost: string
  name: string
  leader?: string
  members: string[]
  online: string[]
}

/**
 * A cluster of N RabbitMQ nodes, whatever runs them (local nodes, containers). What a cluster is made of
 * (start, stop, kill, cut off a node) is the runtime's; what the cluster says of itself (members, leaders,
 * health) comes from the management API and lives here. Nodes count from 1.
 */
export abstract class ClusterBroker<R extends BrokerRecord = BrokerRecord> extends RecordedBroker<R> {
  readonly canRestart = true

  /** What the record holds of the members, whatever runs them. */
  abstract get facts(): {nodes: {nodeName: string}[]; amqpUrls: string[]; managementUrls: string[]}

  /** The Erlang node names, node 1 first. */
  get nodeNames(): string[] {
    return this.facts.nodes.map((n) => n.nodeName)
  }

  /** Every node's AMQP URL (with credentials). */
  get amqpUrls(): string[] {
    return this.facts.amqpUrls
  }

  get managementUrls(): string[] {
    return this.facts.managementUrls
  }
  /** Where a client on this machine reaches node i's AMQP port. */
  abstract amqpAddress(i: number): {host: string; port: number}
  /** SIGKILL one node (nothing restarts it). */
  abstract killNode(i: number): Promise<void>
  /** Stop one node gracefully (its data stays). */
  abstract stopNode(i: number): Promise<void>
  /** Start a node that was stopped or killed, on its data; resolves once the cluster sees it running. */
  abstract startNode(i: number, timeoutMs?: number): Promise<void>
  /** Cut node i's cluster traffic off from the other nodes (a network partition). */
  abstract partitionNode(i: number): Promise<void>
  /** Undo partitionNode (a no-op when the node is not cut off). */
  abstract healNode(i: number): Promise<void>
  /** The members, node 1 first: each a broker of the runtime's own kind. */
  abstract readonly members: {isRunning(): Promise<boolean>}[]

  /** Whether node 1..N answer AMQP now. */
  nodesRunning(): Promise<boolean[]> {
    return Promise.all(this.members.map((m) => m.isRunning()))
  }
  /**
   * `evt up` of a recorded cluster with some nodes down: start those (running[i] false) on their data, all at
   * once, and wait until the cluster is formed again.
   */
  abstract startDownNodes(running: boolean[], timeoutMs: number, signal?: AbortSignal): Promise<void>

  get size(): number {
    return this.nodeNames.length
  }

  /** Throws a usage error unless the cluster has a node i. */
  checkNode(i: number): number {
    if (!Number.isInteger(i) || i < 1 || i > this.size)
      throw new UsageError(`there is no node ${i}`, `This cluster has nodes 1 to ${this.size}`)
    return i
  }

  /** Which member (1-based) has this Erlang node name. */
  indexOf(nodeName: string): number | undefined {
    const i = this.nodeNames.indexOf(nodeName)
    return i < 0 ? undefined : i + 1
  }

  /** Graceful stop then start of one node. */
  async restartNode(i: number): Promise<void> {
    await this.stopNode(i)
    await this.startNode(i)
  }

  async isRunning(): Promise<boolean> {
    return (await this.nodesRunning()).some(Boolean)
  }

  /** All nodes, gracefully one after the other (the whole cluster keeps running until the last one). */
  async restart(): Promise<void> {
    for (let i = 1; i <= this.size; i++) await this.restartNode(i)
  }

  /** A management client on the first node that answers (optionally not this one). */
  async api(avoid?: number, timeoutMs = 15_000): Promise<ManagementClient> {
    const {managementAnswers} = await import('./probe.js')
    // While a peer has just vanished (up to net_ticktime) the API can hang on it: keep asking, a while.
    const until = Date.now() + timeoutMs
    do {
      for (let i = 1; i <= this.size; i++) {
        if (i === avoid) continue
        const url = this.managementUrls[i - 1]
        if (await managementAnswers(url, 2000)) return new ManagementClient(url)
      }
    } while (Date.now() < until)
    throw new UnreachableError('no node of the cluster answers on its management port', 'Run `evt status`')
  }

  /**
   * Nodes that boot at the same moment and join each other fresh agree on the flags none has enabled yet:
   * quorum queues would be refused. Enable every stable flag once the cluster is formed (a no-op after).
   */
  async enableFeatureFlags(): Promise<string[]> {
    const api = await this.api()
    const flags = await api.get<{name: string; state: string; stability?: string}[]>('/feature-flags')
    const off = flags.filter((f) => f.state === 'disabled' && (f.stability ?? 'stable') === 'stable')
    for (const f of off) await api.request('PUT', `/feature-flags/${encodeURIComponent(f.name)}/enable`, {})
    return off.map((f) => f.name)
  }

  /** Wait until node 1 (or any node) sees every member running. */
  async launchFormed(timeoutMs = 30_000, signal?: AbortSignal, where = 'the nodes'): Promise<void> {
    const formed = await waitFor(async () => (await this.runningCount()) === this.size, {
      timeoutMs,
      intervalMs: 100,
      signal,
    })
    if (!formed) {
      throw new UnreachableError(
        `the ${this.size} nodes started but did not form one cluster within ${timeoutMs / 1000}s`,
        `Look in the logs of ${where}`,
      )
    }
  }

  /** How many members node 1 (or any answering node) sees running. */
  async runningCount(): Promise<number> {
    try {
      const members = await this.membersStatus()
      return members.filter((m) => m.running).length
    } catch {
      return 0
    }
  }

  /**
   * Whether the cluster is whole as every node sees it: each node's management answers and its
   * /api/nodes shows all N running with no partitions. (One node's own view is not enough: a node that
   * has just resumed after a partition can see itself running before the others take it back.)
   */
  async wholeInEveryView(): Promise<boolean> {
    const {managementAnswers} = await import('./probe.js')
    for (const url of this.managementUrls) {
      if (!(await managementAnswers(url, 2000))) return false
      const nodes = await new ManagementClient(url)
        .get<{name: string; running: boolean; partitions?: string[]}[]>('/nodes')
        .catch(() => undefined)
      if (!nodes) return false
      for (const name of this.nodeNames) {
        const n = nodes.find((x) => x.name === name)
        if (!n?.running || (n.partitions ?? []).length > 0) return false
      }
    }
    return true
  }

  /** The members as the cluster sees them: running, partitions, alarms. */
  async membersStatus(avoid?: number): Promise<ClusterMember[]> {
    const api = await this.api(avoid)
    const nodes =
      await api.get<
        {
          name: string
          running: boolean
          partitions?: string[]
          mem_alarm?: boolean
          disk_free_alarm?: boolean
        }[]
      >('/nodes')
    return this.nodeNames.map((name, i) => {
      const n = nodes.find((x) => x.name === name)
      return {
        index: i + 1,
        name,
        running: Boolean(n?.running),
        partitions: n?.partitions ?? [],
        alarms: [...(n?.mem_alarm ? ['memory'] : []), ...(n?.disk_free_alarm ? ['disk'] : [])],
      }
    })
  }

  /** A quorum queue's leader and members (undefined leader while an election runs). */
  async quorumQueue(queue: string, vhost = '/'): Promise<QuorumQueueInfo> {
    const api = await this.api()
    const q = await api.get<{leader?: string; members?: string[]; online?: string[]; type?: string}>(
      `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`,
    )
    return {vhost, name: queue, leader: q.leader, members: q.members ?? [], online: q.online ?? []}
  }

  /**
   * The member (1-based) hosting the leader of a quorum queue (or the node of a classic queue). Asked of
   * the nodes in turn, so it works while a node is down; the management view can lag an election by a
   * moment, so callers that just killed a leader poll until the answer changes.
   */
  async leaderOf(queue: string, vhost = '/'): Promise<number> {
    const api = await this.api()
    const q = await api.get<{leader?: string; node?: string}>(
      `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`,
    )
    const name = q.leader ?? q.node
    const index = name ? this.indexOf(name) : undefined
    if (!index) throw new UnreachableError(`queue "${queue}" has no leader right now`, 'Try again in a moment')
    return index
  }
}

/**
 * One start per member under a shared abort: the first failure aborts the other starts (a member waiting for peers
 * that will not come would otherwise wait out its whole timeout), and every start settles before that failure is
 * thrown, so the caller's cleanup never races a member still starting.
 */
export async function startAllOrNone(
  starts: ((signal: AbortSignal) => Promise<void>)[],
  outer?: AbortSignal,
): Promise<void> {
  const group = new AbortController()
  const onOuterAbort = () => group.abort(outer?.reason)
  if (outer?.aborted) onOuterAbort()
  outer?.addEventListener('abort', onOuterAbort, {once: true})
  try {
    const results = await Promise.allSettled(
      starts.map((start) =>
        start(group.signal).catch((err: unknown) => {
          if (!group.signal.aborted) group.abort(err)
          throw err
        }),
      ),
    )
    if (results.some((r) => r.status === 'rejected')) throw group.signal.reason
  } finally {
    outer?.removeEventListener('abort', onOuterAbort)
  }
}
