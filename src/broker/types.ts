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
}

export interface ContainerFacts {
  id: string
  image: string
  ports: {amqp: number; management: number}
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
  local?: LocalNodeFacts
  container?: ContainerFacts
}

export interface StartOptions {
  runtime?: RuntimeChoice
  /** Several brokers side by side are told apart by name. */
  name?: string
  amqpPort?: number
  managementPort?: number
  /** container runtime: the image (default rabbitmq:3.13-management). */
  image?: string
  /** external runtime: the broker's AMQP URL. */
  url?: string
  managementUrl?: string
  /** local runtime: where the node keeps its data (default: a fresh temporary folder). */
  dataDir?: string
  username?: string
  password?: string
  /** Keep the broker when this process exits (the CLI's `evt up`); libraries and tests leave it false. */
  detached?: boolean
  /** Give up waiting for readiness after this long. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface StopOptions {
  /** Keep the data folder so a later start finds the same messages. */
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
