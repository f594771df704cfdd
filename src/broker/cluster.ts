import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {buildAmqpUrl} from '../config/url.js'
import {UnreachableError, UsageError} from '../errors.js'
import {ManagementClient} from '../management/client.js'
import {waitFor} from '../util/time.js'
import {findRabbitmqBinDir, LocalBroker, nodeConfig, nodeEnv, noRabbitmqError, startEpmd, stopEpmd} from './local.js'
import {freePort, portInUse} from './probe.js'
import {isAlive, nodeProcesses, sendSignal} from './process.js'
import {
  type BrokerRecord,
  type ClusterFacts,
  type LocalNodeFacts,
  RecordedBroker,
  type StartOptions,
  type StopOptions,
} from './types.js'
import {type CleanupAction, type CleanupHandle, registerCleanup} from './watchdog.js'

/** Erlang's tick: a lost peer is noticed within about this many seconds (RabbitMQ's own CI uses 5). */
export const CLUSTER_NET_TICKTIME = 5

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
 * N private RabbitMQ nodes on this machine forming one cluster. Each node is a LocalBroker with its own
 * name, ports and folder; they share one cookie and one private epmd. node(i) counts from 1.
 */
export class LocalCluster extends RecordedBroker<BrokerRecord & {cluster: ClusterFacts}> {
  readonly runtime = 'local' as const
  readonly canRestart = true
  readonly members: LocalBroker[]
  private cleanup?: CleanupHandle

  constructor(
    record: BrokerRecord & {cluster: ClusterFacts},
    readonly detached: boolean,
  ) {
    super(record)
    const c = record.cluster
    this.members = c.nodes.map(
      (facts, i) =>
        new LocalBroker(
          {...record, amqpUrl: c.amqpUrls[i], managementUrl: c.managementUrls[i], local: facts, cluster: undefined},
          detached,
        ),
    )
  }

  get facts(): ClusterFacts {
    return this.record.cluster
  }

  get size(): number {
    return this.members.length
  }

  /** Every node's AMQP URL (with credentials). */
  get amqpUrls(): string[] {
    return this.facts.amqpUrls
  }

  get managementUrls(): string[] {
    return this.facts.managementUrls
  }

  /** The member i (1-based). */
  node(i: number): LocalBroker {
    const m = this.members[i - 1]
    if (!m) throw new UsageError(`there is no node ${i}`, `This cluster has nodes 1 to ${this.size}`)
    return m
  }

  /** Which member (1-based) has this Erlang node name. */
  indexOf(nodeName: string): number | undefined {
    const i = this.facts.nodes.findIndex((n) => n.nodeName === nodeName)
    return i < 0 ? undefined : i + 1
  }

  /** A watchdog that kills every node and the epmd (and removes the folder we own) if this process dies. */
  watch(): void {
    if (this.cleanup) return
    const actions: CleanupAction[] = [
      ...this.facts.nodes.map((n) => ({
        kind: 'kill-node' as const,
        nodeName: n.nodeName,
        pidFile: join(n.dataDir, 'rabbitmq.pid'),
      })),
      {kind: 'kill-node', nodeName: this.facts.epmdMarker},
      ...(this.facts.ownsDataDir ? [{kind: 'remove-path' as const, path: this.facts.dataDir}] : []),
    ]
    this.cleanup = registerCleanup(actions)
  }

  unwatch(): void {
    this.cleanup?.release()
    this.cleanup = undefined
  }

  /**
   * Start every node at once and wait until each answers AMQP and management and node 1 sees them all
   * running. A node that fails to boot is tried once more (a rare flake of parallel boots on 2 cores).
   */
  async launch(
    timeoutMs = 90_000,
    signal?: AbortSignal,
    onSpawn?: () => Promise<void>,
    options: {fresh?: boolean} = {},
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs
    await startEpmd(this.facts.nodes[0])
    let spawned = 0
    const bootOne = async (m: LocalBroker, i: number) => {
      const afterSpawn = async () => {
        if (++spawned === this.size) await onSpawn?.()
      }
      try {
        await m.launch(Math.max(5000, deadline - Date.now()), signal, afterSpawn)
      } catch (err) {
        if (signal?.aborted || Date.now() > deadline - 5000) throw err
        // A fresh node that failed half-way through joining starts again from an empty database.
        if (options.fresh) await rm(join(m.facts.dataDir, 'mnesia'), {recursive: true, force: true})
        try {
          await m.launch(Math.max(5000, deadline - Date.now()), signal)
        } catch (again) {
          const hint = again instanceof UnreachableError ? again.hint : undefined
          throw new UnreachableError(
            `node ${i + 1} of the cluster did not start (twice): ${(again as Error).message}`,
            hint ?? `Look in ${m.facts.dataDir}/log`,
          )
        }
      }
    }
    await Promise.all(this.members.map((m, i) => bootOne(m, i)))
    await this.launchFormed(Math.max(1000, deadline - Date.now()), signal)
    await this.enableFeatureFlags()
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
  async launchFormed(timeoutMs = 30_000, signal?: AbortSignal): Promise<void> {
    const formed = await waitFor(async () => (await this.runningCount()) === this.size, {
      timeoutMs,
      intervalMs: 100,
      signal,
    })
    if (!formed) {
      throw new UnreachableError(
        `the ${this.size} nodes started but did not form one cluster within ${timeoutMs / 1000}s`,
        `Look in ${this.facts.dataDir}/n*/log`,
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
      for (const f of this.facts.nodes) {
        const n = nodes.find((x) => x.name === f.nodeName)
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
    return this.facts.nodes.map((f, i) => {
      const n = nodes.find((x) => x.name === f.nodeName)
      return {
        index: i + 1,
        name: f.nodeName,
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

  /** SIGKILL one node (nothing restarts it). */
  async killNode(i: number): Promise<void> {
    await this.node(i).kill()
  }

  /** Stop one node gracefully (its data stays). */
  async stopNode(i: number): Promise<void> {
    await this.node(i).stop({keepData: true})
  }

  /** Start a node that was stopped or killed, on its data; it rejoins the cluster. */
  async startNode(i: number, timeoutMs = 60_000): Promise<void> {
    const m = this.node(i)
    await m.kill() // leftovers of a killed node (a hung launcher) go first
    await startEpmd(m.facts)
    await m.launch(timeoutMs)
    await waitFor(async () => (await this.runningCount()) === this.size, {timeoutMs: 30_000, intervalMs: 100})
  }

  /** Graceful stop then start of one node. */
  async restartNode(i: number): Promise<void> {
    await this.stopNode(i)
    await this.startNode(i)
  }

  /** Whether node 1..N are up (by AMQP). */
  async nodesRunning(): Promise<boolean[]> {
    return Promise.all(this.members.map((m) => m.isRunning()))
  }

  async isRunning(): Promise<boolean> {
    return (await this.nodesRunning()).some(Boolean)
  }

  /** All nodes, gracefully one after the other (the whole cluster keeps running until the last one). */
  async restart(): Promise<void> {
    for (let i = 1; i <= this.size; i++) await this.restartNode(i)
  }

  /** SIGKILL every node, then start them all again on their data. */
  async killAndRestart(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()))
    await this.launch()
  }

  /**
   * Stop every node and the cluster's epmd; remove the folder unless keepData (then each node is stopped
   * gracefully, all at once, so a later launch finds them all).
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const keep = Boolean(options.keepData || options.graceful)
    // A partition left in place (evt node partition) is healed: no packet filter outlives the cluster.
    const {healNode} = await import('../faults/partition.js')
    for (const n of this.facts.nodes) await healNode(n.nodeName).catch(() => undefined)
    await Promise.all(this.members.map((m) => m.stop({keepData: keep, graceful: keep})))
    await stopEpmd(this.facts.nodes[0])
    // The epmd runs under its marker name: anything left of it (a restart raced a stop) is killed too.
    const rest = nodeProcesses(this.facts.epmdMarker)
    for (const pid of rest) sendSignal(pid, 'SIGKILL')
    await waitFor(async () => rest.every((p) => !isAlive(p)), {timeoutMs: 2000, intervalMs: 20})
    if (!options.keepData && this.facts.ownsDataDir) await rm(this.facts.dataDir, {recursive: true, force: true})
    this.unwatch()
  }
}

/**
 * Everything the cluster needs before it runs (ports, folders, one cookie, configs); nothing started.
 * dataDir holds n1..nN.
 */
export async function prepareCluster(options: StartOptions & {nodes: number}): Promise<LocalCluster> {
  if (!findRabbitmqBinDir()) throw noRabbitmqError()
  const count = validateNodeCount(options.nodes)
  const name = options.name ?? 'default'
  const ownsDataDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `evt-${name}-`)))
  await mkdir(dataDir, {recursive: true, mode: 0o700})
  await chmod(dataDir, 0o700)
  const username = options.username ?? 'evt'
  const password = options.password ?? randomBytes(12).toString('hex')
  const cookie = randomBytes(20).toString('hex').toUpperCase()
  const epmd = await freePort()
  const tag = randomBytes(3).toString('hex')
  const epmdMarker = `evt-${name}-epmd-${tag}@localhost`
  if (options.amqpPort !== undefined && (await portInUse(options.amqpPort))) {
    throw new UsageError(`port ${options.amqpPort} (AMQP) is already in use`, 'Choose another with --port')
  }
  const nodes: LocalNodeFacts[] = []
  const taken = new Set<number>()
  const port = async () => {
    for (;;) {
      const p = await freePort()
      if (!taken.has(p)) {
        taken.add(p)
        return p
      }
    }
  }
  for (let i = 0; i < count; i++) {
    nodes.push({
      nodeName: `evt-${name}-n${i + 1}-${tag}@localhost`,
      dataDir: join(dataDir, `n${i + 1}`),
      launcherPid: 0,
      ports: {
        amqp: i === 0 && options.amqpPort ? options.amqpPort : await port(),
        management: i === 0 && options.managementPort ? options.managementPort : await port(),
        dist: await port(),
        epmd,
      },
      ownsDataDir: false,
      epmdMarker,
      netTicktime: CLUSTER_NET_TICKTIME,
      distSourceIp: `127.0.0.${i + 2}`,
    })
  }
  const names = nodes.map((n) => n.nodeName)
  for (const [i, facts] of nodes.entries()) {
    await mkdir(join(facts.dataDir, 'log'), {recursive: true, mode: 0o700})
    const cookieFile = join(facts.dataDir, '.erlang.cookie')
    if (existsSync(cookieFile)) await chmod(cookieFile, 0o600)
    await writeFile(cookieFile, cookie, {mode: 0o600})
    await chmod(cookieFile, 0o600)
    await writeFile(
      join(facts.dataDir, 'rabbitmq.conf'),
      nodeConfig(facts, username, password, clusterConfigLines(i, names)),
      {mode: 0o600},
    )
    await writeFile(join(facts.dataDir, 'enabled_plugins'), '[rabbitmq_management].\n')
    await writeFile(join(facts.dataDir, 'rabbitmq-env.conf'), '')
  }
  const amqpUrls = nodes.map((n) =>
    buildAmqpUrl({protocol: 'amqp', host: '127.0.0.1', port: n.ports.amqp, username, password}),
  )
  const managementUrls = nodes.map(
    (n) => `http://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${n.ports.management}`,
  )
  const record: BrokerRecord & {cluster: ClusterFacts} = {
    name,
    runtime: 'local',
    amqpUrl: amqpUrls[0],
    managementUrl: managementUrls[0],
    username,
    password,
    startedAt: new Date().toISOString(),
    cluster: {dataDir, ownsDataDir, epmdPort: epmd, epmdMarker, nodes, amqpUrls, managementUrls},
  }
  return new LocalCluster(record, options.detached ?? false)
}

/** `startBroker({nodes: 3})`: a throwaway cluster that dies with this process unless stopped first. */
export async function startCluster(options: StartOptions & {nodes: number}): Promise<LocalCluster> {
  const cluster = await prepareCluster(options)
  if (!options.detached) cluster.watch()
  const started = Date.now()
  try {
    await cluster.launch(options.timeoutMs ?? 120_000, options.signal, undefined, {fresh: true})
  } catch (err) {
    await cluster.stop()
    throw err
  }
  cluster.record.readySeconds = (Date.now() - started) / 1000
  return cluster
}

/** Re-attach to a cluster started by another process (`evt down`, `evt status`, `evt node`). */
export function attachCluster(record: BrokerRecord): LocalCluster {
  if (!record.cluster) throw new TypeError('not a cluster record')
  return new LocalCluster(record as BrokerRecord & {cluster: ClusterFacts}, true)
}

/** Run a rabbitmq CLI tool (rabbitmqctl, rabbitmq-queues ...) against member facts; resolves its stdout. */
export function clusterCli(facts: LocalNodeFacts, tool: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const binDir = findRabbitmqBinDir()
  if (!binDir) return Promise.reject(noRabbitmqError())
  return new Promise((resolve, reject) => {
    execFile(
      join(binDir, tool),
      ['-n', facts.nodeName, ...args],
      {env: nodeEnv(facts), timeout: timeoutMs},
      (err, stdout, stderr) =>
        err ? reject(new Error(`${tool} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    )
  })
}
