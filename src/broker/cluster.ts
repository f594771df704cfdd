import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {buildAmqpUrl, buildManagementUrl} from '../config/url.js'
import {UnreachableError, UsageError} from '../errors.js'
import {waitFor} from '../util/time.js'
import {
  CLUSTER_NET_TICKTIME,
  ClusterBroker,
  clusterConfigLines,
  startAllOrNone,
  validateNodeCount,
} from './cluster-base.js'
import {findRabbitmqBinDir, LocalBroker, nodeConfig, noRabbitmqError, startEpmd, stopEpmd} from './local.js'
import {freePort, portInUse} from './probe.js'
import {isAlive, nodeProcesses, sendSignal} from './process.js'
import type {BrokerRecord, ClusterFacts, LocalNodeFacts, StartOptions, StopOptions} from './types.js'
import {type CleanupAction, type CleanupHandle, registerCleanup} from './watchdog.js'

/**
 * N private RabbitMQ nodes on this machine forming one cluster. Each node is a LocalBroker with its own
 * name, ports and folder; they share one cookie and one private epmd. node(i) counts from 1.
 */
export class LocalCluster extends ClusterBroker<BrokerRecord & {cluster: ClusterFacts}> {
  readonly runtime = 'local' as const
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

  /** The member i (1-based). */
  node(i: number): LocalBroker {
    return this.members[this.checkNode(i) - 1]
  }

  amqpAddress(i: number): {host: string; port: number} {
    return {host: '127.0.0.1', port: this.node(i).facts.ports.amqp}
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
    const afterSpawn = async () => {
      if (++spawned === this.size) await onSpawn?.()
    }
    await startAllOrNone(
      this.members.map((_, i) => (group) => this.bootMember(i, deadline, group, {fresh: options.fresh, afterSpawn})),
      signal,
    )
    await this.launchFormed(Math.max(1000, deadline - Date.now()), signal, `${this.facts.dataDir}/n*/log`)
    await this.enableFeatureFlags()
  }

  /**
   * Boot member i (0-based) on its data, tried once more when it fails: parallel boots on 2 cores rarely
   * lose one node, and a fresh or resumed cluster must not fail for that.
   */
  private async bootMember(
    i: number,
    deadline: number,
    signal: AbortSignal,
    options: {fresh?: boolean; afterSpawn?: () => Promise<void>} = {},
  ): Promise<void> {
    const m = this.members[i]
    try {
      await m.launch(Math.max(5000, deadline - Date.now()), signal, options.afterSpawn)
    } catch (err) {
      if (signal.aborted || Date.now() > deadline - 5000) throw err
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

  /** Cut the node's distribution traffic with packet filtering (faults/partition.ts). */
  async partitionNode(i: number): Promise<void> {
    const {cutNode} = await import('../faults/partition.js')
    await cutNode(
      this.facts.nodes[this.checkNode(i) - 1],
      this.facts.nodes.filter((_, k) => k !== i - 1),
    )
  }

  async healNode(i: number): Promise<void> {
    const {healNode} = await import('../faults/partition.js')
    await healNode(this.facts.nodes[this.checkNode(i) - 1].nodeName)
  }

  async startDownNodes(running: boolean[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs
    await startAllOrNone(
      this.members.map((m, i) => async (group) => {
        if (running[i]) return
        await m.kill()
        await this.bootMember(i, deadline, group)
      }),
      signal,
    )
    await this.launchFormed(Math.max(1000, deadline - Date.now()), signal, `${this.facts.dataDir}/n*/log`)
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

export {
  CLUSTER_NET_TICKTIME,
  type ClusterMember,
  clusterConfigLines,
  type QuorumQueueInfo,
  validateNodeCount,
} from './cluster-base.js'

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
  const managementUrls = nodes.map((n) =>
    buildManagementUrl({host: '127.0.0.1', port: n.ports.management, username, password}),
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
