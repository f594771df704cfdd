export type RuntimeKind = 'local' | 'container' | 'external'
export type RuntimeChoice = RuntimeKind | 'auto'

export interface LocalNodeFacts {
  nodeName: string
  dataDir: string
  /** The launcher's pid; it leads the node's process group. */
  launcherPid: number
  ports: {amqp: number; management: number; dist: number; epmd: number}
  /** Whether `evt down` removes dataDir (false when the user gave it). */
  ownsDataDir: boolean
  /**
   * A cluster member: its epmd is the cluster's (started under this marker node name, stopped by the
   * cluster, never by the node), and its VM runs with this net_ticktime.
   */
  epmdMarker?: string
  netTicktime?: number
  /**
   * A cluster member's outgoing distribution connections come from this loopback address (127.0.0.<i+1>),
   * so that packet filtering can cut exactly this node's distribution traffic (evt node partition).
   */
  distSourceIp?: string
}

/** A local cluster: N private nodes sharing one cookie and one private epmd. */
export interface ClusterFacts {
  /** The folder holding every node's folder (n1, n2, ...). */
  dataDir: string
  ownsDataDir: boolean
  epmdPort: number
  /** The node name the cluster's epmd runs under (so the watchdog and `evt down` find it). */
  epmdMarker: string
  nodes: LocalNodeFacts[]
  /** Per node, with credentials (the record is 0600): never print without maskUrl. */
  amqpUrls: string[]
  managementUrls: string[]
}

/** A cluster member's container: its place on the cluster's network and what its node needs to join. */
export interface ContainerMemberFacts {
  /** The cluster's private network (its name), and this member's name on it (also its host name): n1, n2 ... */
  network: string
  alias: string
  /** The evt.cluster label shared by every member and the network. */
  cluster: string
  /** The Erlang cookie every member shares (the record is 0600). */
  cookie: string
  /** The rabbitmq.conf lines of this member (peer discovery, partition handling). */
  config: string[]
}

/** N containers on a private network, forming one cluster (`evt up --nodes 3 --runtime container`). */
export interface ContainerClusterFacts {
  kind: 'container'
  /** The network's name; every member and the network carry the label evt.cluster=<run>. */
  network: string
  run: string
  image: string
  host: string
  stateHome?: string
  nodes: (ContainerFacts & {nodeName: string; member: ContainerMemberFacts})[]
  /** Per node, with credentials (the record is 0600): never print without maskUrl. */
  amqpUrls: string[]
  managementUrls: string[]
}

/** A local or a container cluster: what every cluster record has. */
export type AnyClusterFacts = ClusterFacts | ContainerClusterFacts

export function isContainerCluster(facts: AnyClusterFacts | undefined): facts is ContainerClusterFacts {
  return facts !== undefined && (facts as ContainerClusterFacts).kind === 'container'
}

/** The local cluster facts of a record, or undefined (a single node, or a container cluster). */
export function localClusterFacts(record: BrokerRecord): ClusterFacts | undefined {
  return record.cluster && !isContainerCluster(record.cluster) ? record.cluster : undefined
}

export interface ContainerFacts {
  /** '' until the container is created (the record is written before: the run label finds it). */
  id: string
  image: string
  ports: {amqp: number; management: number}
  /** The evt.run label: finds the container of an `evt up` that died before it recorded the id. */
  run?: string
  /** The host its ports are reached on (TESTCONTAINERS_HOST_OVERRIDE, a tcp DOCKER_HOST's host, else 127.0.0.1). */
  host?: string
  /** The evt.state label: the state folder of the `evt up` that made it. */
  stateHome?: string
  /** A member of a container cluster. */
  member?: ContainerMemberFacts
}

/** What `evt up` writes to its state file, and what any runtime can be re-attached from. */
export interface BrokerRecord {
  name: string
  runtime: RuntimeKind
  /** With credentials: the record is 0600. Never print without maskUrl. */
  amqpUrl: string
  managementUrl: string
  username: string
  password: string
  startedAt: string
  readySeconds?: number
  /**
   * starting: recorded before the start, so a crash of `evt up` leaves a trace to clean; running: ready;
   * stopped: `evt down --keep-data`. Absent in records of older versions (read as running).
   */
  state?: 'starting' | 'running' | 'stopped'
  /** The `evt up` process that is starting it (state starting): a dead owner means an interrupted start. */
  owner?: {pid: number; startTime?: string}
  local?: LocalNodeFacts
  container?: ContainerFacts
  /** Several nodes (`evt up --nodes 3`): amqpUrl and managementUrl are node 1's. */
  cluster?: AnyClusterFacts
}

export interface StartOptions {
  runtime?: RuntimeChoice
  /** Several brokers side by side are told apart by name. */
  name?: string
  amqpPort?: number
  managementPort?: number
  /** container runtime: the image (default EVT_IMAGE, else rabbitmq:3.13-management). */
  image?: string
  /** container runtime: the state folder, recorded as the evt.state label (`evt up`). */
  stateHome?: string
  /** external runtime: the broker's AMQP URL. */
  url?: string
  managementUrl?: string
  /** local runtime: where the node keeps its data (default: a fresh temporary folder). */
  dataDir?: string
  username?: string
  password?: string
  /** Keep the broker when this process exits (the CLI's `evt up`); libraries and tests leave it false. */
  detached?: boolean
  /** How many nodes (1, or an odd number >= 3 for a cluster). */
  nodes?: number
  /** Give up waiting for readiness after this long. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface StopOptions {
  /** Keep the data folder so a later start finds the same messages (implies graceful). */
  keepData?: boolean
  /** Stop gracefully (slower) instead of killing a throwaway broker. */
  graceful?: boolean
}

/** A running broker, whichever runtime started it. */
export interface Broker {
  readonly runtime: RuntimeKind
  readonly name: string
  /** AMQP URL with credentials, default vhost. */
  readonly amqpUrl: string
  /** Management API base URL with credentials. */
  readonly managementUrl: string
  readonly record: BrokerRecord
  /** Whether restart() and kill() are possible (false for an external broker). */
  readonly canRestart: boolean
  /** Graceful stop then start on the same data. */
  restart(): Promise<void>
  /** SIGKILL the broker, then start it again on the same data (crash recovery). */
  killAndRestart(): Promise<void>
  /**
   * Restart the RabbitMQ application inside its running Erlang VM (stop_app, start_app): queues and message
   * stores recover from disk as after restart(), faster. Only where the runtime can (a local node).
   */
  restartApp?(): Promise<void>
  /** Stop it; removes its data unless keepData. */
  stop(options?: StopOptions): Promise<void>
  /** Whether it answers on AMQP now. */
  isRunning(): Promise<boolean>
}

/** What every runtime's Broker reads from its record. */
export abstract class RecordedBroker<R extends BrokerRecord = BrokerRecord> implements Broker {
  abstract readonly runtime: RuntimeKind
  abstract readonly canRestart: boolean

  constructor(readonly record: R) {}

  get name(): string {
    return this.record.name
  }
  get amqpUrl(): string {
    return this.record.amqpUrl
  }
  get managementUrl(): string {
    return this.record.managementUrl
  }

  abstract restart(): Promise<void>
  abstract killAndRestart(): Promise<void>
  abstract stop(options?: StopOptions): Promise<void>
  abstract isRunning(): Promise<boolean>
}
