import {randomBytes} from 'node:crypto'
import {buildAmqpUrl, buildManagementUrl} from '../config/url.js'
import {UnreachableError} from '../errors.js'
import {waitFor} from '../util/time.js'
import {ClusterBroker, clusterConfigLines, startAllOrNone, validateNodeCount} from './cluster-base.js'
import {ContainerBroker, containerHost, containerStartError, defaultImage} from './container.js'
import {
  connectNetwork,
  createNetwork,
  disconnectNetwork,
  dockerEndpoint,
  inspectContainer,
  killContainer,
  LABEL_BROKER,
  LABEL_CLUSTER,
  LABEL_STATE,
  removeByLabels,
  removeNetworksByLabels,
  startExisting,
  stopContainer,
} from './docker-api.js'
import {freePort} from './probe.js'
import type {BrokerRecord, ContainerClusterFacts, StartOptions, StopOptions} from './types.js'
import {type CleanupHandle, registerCleanup} from './watchdog.js'

type ContainerClusterRecord = BrokerRecord & {cluster: ContainerClusterFacts}

/**
 * N RabbitMQ containers forming one cluster on a private network evt creates (`evt up --nodes 3 --runtime
 * container`). Each member is a ContainerBroker: created on the engine's default bridge, where its AMQP and
 * management ports are published, and joined to the cluster network as n1, n2 ... (its host name; its node is
 * rabbit@n1 ...). Members find node 1 by classic peer discovery. A partition takes a member off the cluster
 * network: its peers lose it, while the host still reaches it on its published ports.
 */
export class ContainerCluster extends ClusterBroker<ContainerClusterRecord> {
  readonly runtime = 'container' as const
  readonly members: ContainerBroker[]
  private cleanup?: CleanupHandle

  constructor(record: ContainerClusterRecord) {
    super(record)
    const c = record.cluster
    this.members = c.nodes.map(
      (facts, i) =>
        new ContainerBroker({
          ...record,
          amqpUrl: c.amqpUrls[i],
          managementUrl: c.managementUrls[i],
          container: facts,
          cluster: undefined,
        } as BrokerRecord & {container: typeof facts}),
    )
  }

  get facts(): ContainerClusterFacts {
    return this.record.cluster
  }

  node(i: number): ContainerBroker {
    return this.members[this.checkNode(i) - 1]
  }

  amqpAddress(i: number): {host: string; port: number} {
    return {host: this.facts.host, port: this.facts.nodes[this.checkNode(i) - 1].ports.amqp}
  }

  private get clusterLabel(): Record<string, string> {
    return {[LABEL_CLUSTER]: this.facts.run}
  }

  /** A watchdog that removes every member and the network should this process die (stop() releases it). */
  watch(): void {
    if (this.cleanup) return
    this.cleanup = registerCleanup([
      {kind: 'docker-remove', dockerHost: dockerEndpoint().address, labels: this.clusterLabel, networks: true},
    ])
  }

  unwatch(): void {
    this.cleanup?.release()
    this.cleanup = undefined
  }

  /**
   * Create the network, then every member at once, and wait until each answers and node 1 sees them all
   * running. Any failure (or Ctrl-C) removes all of it.
   */
  async launch(timeoutMs = 180_000, signal?: AbortSignal, onCreated?: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs
    try {
      await createNetwork(this.facts.network, {
        [LABEL_BROKER]: this.name,
        ...this.clusterLabel,
        ...(this.facts.stateHome ? {[LABEL_STATE]: this.facts.stateHome} : {}),
      }).catch((err: Error) => {
        throw containerStartError(err, this.facts.image)
      })
      let created = 0
      // Nothing is removed before every start has settled: a container created after the removal would outlive it
      // (and keep the network in use).
      await startAllOrNone(
        this.members.map(
          (m) => (group) =>
            m.launch({
              timeoutMs: Math.max(5000, deadline - Date.now()),
              signal: group,
              onCreated: async () => {
                if (++created === this.size) await onCreated?.()
              },
            }),
        ),
        signal,
      )
      await this.launchFormed(Math.max(1000, deadline - Date.now()), signal, 'the containers (`docker logs`)')
      await this.enableFeatureFlags()
    } catch (err) {
      await this.removeAll().catch(() => undefined)
      throw err
    }
  }

  /** Remove every member, then the network (it cannot go while a member is on it). */
  private async removeAll(): Promise<void> {
    try {
      await removeByLabels(this.clusterLabel)
      await removeNetworksByLabels(this.clusterLabel)
    } catch (err) {
      throw new UnreachableError(
        `could not remove the cluster's containers and network: ${(err as Error).message}`,
        `Check that the Docker engine answers at ${dockerEndpoint().address}, then run \`evt down\` again`,
      )
    }
  }

  private async id(i: number): Promise<string> {
    const id = await this.node(i).containerId()
    if (!id) throw new UnreachableError(`the container of node ${i} no longer exists`, 'Run `evt down`, then `evt up`')
    return id
  }

  async killNode(i: number): Promise<void> {
    const id = await this.id(i)
    await killContainer(id, 'SIGKILL')
    const gone = await waitFor(async () => !(await inspectContainer(id))?.State.Running, {
      timeoutMs: 10_000,
      intervalMs: 50,
    })
    if (!gone) throw new UnreachableError(`node ${i}'s container still runs 10 s after SIGKILL`, 'Look at `docker ps`')
  }

  async stopNode(i: number): Promise<void> {
    await stopContainer(await this.id(i), 60)
  }

  async startNode(i: number, timeoutMs = 90_000): Promise<void> {
    await startExisting(await this.id(i))
    await this.node(i).waitReady(timeoutMs)
    await this.launchFormed(30_000, undefined, `node ${i}'s container (\`docker logs\`)`)
  }

  /** Take the member off the cluster network (docker network disconnect): its peers lose it; clients do not. */
  async partitionNode(i: number): Promise<void> {
    await disconnectNetwork(this.facts.network, await this.id(i))
  }

  async healNode(i: number): Promise<void> {
    const facts = this.facts.nodes[this.checkNode(i) - 1]
    await connectNetwork(this.facts.network, await this.id(i), [facts.member.alias])
  }

  async startDownNodes(running: boolean[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await startAllOrNone(
      this.members.map((m, i) => async (group) => {
        if (running[i]) return
        const id = await this.id(i + 1)
        // A member still cut off (a paused minority) would start where it cannot find the others.
        await this.healNode(i + 1).catch(() => undefined)
        // Down but running (a hung node): start it afresh on its data.
        if ((await inspectContainer(id))?.State.Running) await stopContainer(id, 10)
        await startExisting(id)
        await m.waitReady(timeoutMs, group)
      }),
      signal,
    )
    await this.launchFormed(timeoutMs, signal, 'the containers (`docker logs`)')
  }

  async killAndRestart(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.killNode(i + 1)))
    await this.startDownNodes(
      this.members.map(() => false),
      120_000,
    )
  }

  /** Remove every member and the network (default), or with keepData stop them all, keeping both. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (options.keepData) {
      // Every member heals first: a member left off the network would not find the others when resumed.
      for (let i = 1; i <= this.size; i++) await this.healNode(i).catch(() => undefined)
      await Promise.all(this.members.map((m) => m.stop({keepData: true})))
    } else {
      await this.removeAll()
    }
    this.unwatch()
  }
}

/** Everything a container cluster needs before it runs (ports, cookie, names, configs); nothing created. */
export async function prepareContainerCluster(options: StartOptions & {nodes: number}): Promise<ContainerCluster> {
  const count = validateNodeCount(options.nodes)
  const name = options.name ?? 'default'
  const username = options.username ?? 'evt'
  const password = options.password ?? randomBytes(12).toString('hex')
  const cookie = randomBytes(20).toString('hex').toUpperCase()
  const run = randomBytes(6).toString('hex')
  const network = `evt-${name}-${run.slice(0, 6)}`
  const host = containerHost()
  const image = options.image ?? defaultImage()
  const aliases = [...Array(count).keys()].map((i) => `n${i + 1}`)
  const nodeNames = aliases.map((a) => `rabbit@${a}`)
  const taken = new Set<number>()
  const port = async (asked?: number) => {
    if (asked) return asked
    for (;;) {
      const p = await freePort()
      if (!taken.has(p)) {
        taken.add(p)
        return p
      }
    }
  }
  const nodes: ContainerClusterFacts['nodes'] = []
  for (const [i, alias] of aliases.entries()) {
    nodes.push({
      nodeName: nodeNames[i],
      id: '',
      image,
      ports: {
        amqp: await port(i === 0 ? options.amqpPort : undefined),
        management: await port(i === 0 ? options.managementPort : undefined),
      },
      run: `${run}-${alias}`,
      host,
      ...(options.stateHome ? {stateHome: options.stateHome} : {}),
      member: {network, alias, cluster: run, cookie, config: clusterConfigLines(i, nodeNames)},
    })
  }
  const amqpUrls = nodes.map((n) => buildAmqpUrl({protocol: 'amqp', host, port: n.ports.amqp, username, password}))
  const managementUrls = nodes.map((n) => buildManagementUrl({host, port: n.ports.management, username, password}))
  return new ContainerCluster({
    name,
    runtime: 'container',
    amqpUrl: amqpUrls[0],
    managementUrl: managementUrls[0],
    username,
    password,
    startedAt: new Date().toISOString(),
    cluster: {
      kind: 'container',
      network,
      run,
      image,
      host,
      ...(options.stateHome ? {stateHome: options.stateHome} : {}),
      nodes,
      amqpUrls,
      managementUrls,
    },
  })
}

/** `startBroker({nodes: 3, runtime: 'container'})`: removed by stop(), or by the watchdog if this process dies. */
export async function startContainerCluster(options: StartOptions & {nodes: number}): Promise<ContainerCluster> {
  const cluster = await prepareContainerCluster(options)
  if (!options.detached) cluster.watch()
  const started = Date.now()
  try {
    await cluster.launch(options.timeoutMs ?? 180_000, options.signal)
  } catch (err) {
    await cluster.stop().catch(() => undefined)
    throw err
  }
  cluster.record.readySeconds = (Date.now() - started) / 1000
  return cluster
}

export function attachContainerCluster(record: BrokerRecord): ContainerCluster {
  return new ContainerCluster(record as ContainerClusterRecord)
}
