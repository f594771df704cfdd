import {randomBytes} from 'node:crypto'
import {createRequire} from 'node:module'
import {isIP} from 'node:net'
import {buildAmqpUrl, buildManagementUrl} from '../config/url.js'
import {UnreachableError, UsageError} from '../errors.js'
import {InterruptedError} from '../util/signals.js'
import {settledWithin, waitFor} from '../util/time.js'
import {CLUSTER_MEMBER_ERL_ARGS, CLUSTER_NET_TICKTIME, PRIVATE_NODE_ERL_ARGS} from './cluster-base.js'
import {
  containerLogTail,
  type DockerEndpoint,
  dockerAnswers,
  dockerEndpoint,
  imagePresent,
  imagePullable,
  inspectContainer,
  killContainer,
  LABEL_BROKER,
  LABEL_CLUSTER,
  LABEL_RUN,
  LABEL_STATE,
  listByLabels,
  removeByLabels,
  removeContainer,
  removeNetworksByLabels,
  startExisting,
  stopContainer,
} from './docker-api.js'
import {amqpAnswers, freePort, managementAnswers} from './probe.js'
import {
  type BrokerRecord,
  type ContainerFacts,
  type ContainerMemberFacts,
  RecordedBroker,
  type StartOptions,
  type StopOptions,
} from './types.js'
import {type CleanupHandle, registerCleanup} from './watchdog.js'

export {dockerAnswers} from './docker-api.js'

export const DEFAULT_IMAGE = 'rabbitmq:3.13-management'
/** Where a cluster member's own settings go: RabbitMQ reads conf.d after rabbitmq.conf (3.9+; official images too). */
export const CLUSTER_CONFIG_PATH = '/etc/rabbitmq/conf.d/90-evt-cluster.conf'
/** The container ports evt uses; nothing else is published. */
export const AMQP_PORT = 5672
export const MANAGEMENT_PORT = 15672

/** The image to run: --image / the library's option, else EVT_IMAGE, else the official management image. */
export function defaultImage(env: NodeJS.ProcessEnv = process.env): string {
  return env.EVT_IMAGE?.trim() || DEFAULT_IMAGE
}

/**
 * The host evt reports in URLs and probes: TESTCONTAINERS_HOST_OVERRIDE, else a tcp DOCKER_HOST's host name, else
 * 127.0.0.1 (a unix socket: the engine runs here).
 */
export function containerHost(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.TESTCONTAINERS_HOST_OVERRIDE?.trim()
  if (override) return override
  const ep = dockerEndpoint(env)
  if (ep.hostname && ep.hostname !== 'localhost') return ep.hostname
  return '127.0.0.1'
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))
}

/**
 * The host address the ports are published on: EVT_CONTAINER_BIND when set (0.0.0.0 for every address), else
 * loopback when the engine runs here, else the engine's default (a remote engine's loopback would be unreachable).
 */
export function bindAddress(host: string, env: NodeJS.ProcessEnv = process.env): string {
  const asked = env.EVT_CONTAINER_BIND?.trim()
  if (asked !== undefined && asked !== '') return asked
  return isLoopback(host) ? '127.0.0.1' : ''
}

export interface ContainerSpec {
  image: string
  name: string
  env: Record<string, string>
  /** Fixed host ports, so a restarted container keeps its URLs. */
  ports: {container: number; host: number}[]
  /** The host address the ports bind to ('' = the engine's default). */
  bindIp: string
  labels: Record<string, string>
  startupTimeoutMs: number
  /** A cluster member: joined to the cluster's network under its alias (also its host name). */
  network?: {name: string; alias: string}
  /** Files written into the container before it starts. */
  files: {target: string; content: string}[]
}

/** Everything the container runtime asks Docker for, as data (unit-tested; Docker is not needed). */
export function containerSpec(
  options: StartOptions & {
    amqpPort: number
    managementPort: number
    username: string
    password: string
    run?: string
    host?: string
    member?: ContainerMemberFacts
  },
  env: NodeJS.ProcessEnv = process.env,
): ContainerSpec {
  const name = options.name ?? 'default'
  const run = options.run ?? randomBytes(6).toString('hex')
  const m = options.member
  return {
    image: options.image ?? defaultImage(env),
    name: m ? `evt-${name}-${m.cluster.slice(0, 6)}-${m.alias}` : `evt-${name}-${run.slice(0, 6)}`,
    env: {
      RABBITMQ_DEFAULT_USER: options.username,
      RABBITMQ_DEFAULT_PASS: options.password,
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: PRIVATE_NODE_ERL_ARGS,
      ...(m
        ? {
            RABBITMQ_NODENAME: `rabbit@${m.alias}`,
            RABBITMQ_ERLANG_COOKIE: m.cookie,
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `${PRIVATE_NODE_ERL_ARGS} -kernel net_ticktime ${CLUSTER_NET_TICKTIME} ${CLUSTER_MEMBER_ERL_ARGS}`,
          }
        : {}),
    },
    ports: [
      {container: AMQP_PORT, host: options.amqpPort},
      {container: MANAGEMENT_PORT, host: options.managementPort},
    ],
    bindIp: bindAddress(options.host ?? containerHost(env), env),
    labels: {
      [LABEL_BROKER]: name,
      [LABEL_RUN]: run,
      ...(options.stateHome ? {[LABEL_STATE]: options.stateHome} : {}),
      ...(m ? {[LABEL_CLUSTER]: m.cluster} : {}),
    },
    startupTimeoutMs: options.timeoutMs ?? 120_000,
    ...(m ? {network: {name: m.network, alias: m.alias}} : {}),
    files: m ? [{target: CLUSTER_CONFIG_PATH, content: `${m.config.join('\n')}\n`}] : [],
  }
}

/** The install line for the container runtime's library (an optional peer: a plain install stays light). */
export const CONTAINER_STACK_INSTALL = 'npm i testcontainers@11.14.0'

/** Whether testcontainers can be loaded from here (it is an optional peer dependency). */
export function containerStackInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('testcontainers')
    return true
  } catch {
    return false
  }
}

/** testcontainers, or exit 3 saying how to install it. */
async function loadTestcontainers() {
  try {
    return await import('testcontainers')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err
    throw new UnreachableError(
      'the container runtime needs testcontainers, which is not installed',
      `Install it next to evt (\`${CONTAINER_STACK_INSTALL}\`), or use --runtime local or --url`,
      err,
    )
  }
}

/** Why the container runtime cannot run this image here (for `auto`), or undefined when it can. */
export async function containerUnavailable(
  image: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (!containerStackInstalled()) return `testcontainers is not installed (${CONTAINER_STACK_INSTALL})`
  const endpoint = dockerEndpoint(env)
  if (!(await dockerAnswers(env))) return `no Docker engine answers at ${endpoint.address}`
  try {
    if (await imagePresent(image, endpoint)) return undefined
  } catch (err) {
    return `Docker at ${endpoint.address} failed: ${(err as Error).message}`
  }
  const why = await imagePullable(image, 5000, endpoint)
  return why ? `the image ${image} is not in Docker at ${endpoint.address} and cannot be pulled (${why})` : undefined
}

const READY_PROBE_MS = 100

export class ContainerBroker extends RecordedBroker<BrokerRecord & {container: ContainerFacts}> {
  readonly runtime = 'container' as const
  readonly canRestart = true
  private cleanup?: CleanupHandle

  get facts(): ContainerFacts {
    return this.record.container
  }

  private get host(): string {
    return this.facts.host ?? '127.0.0.1'
  }

  /** The container's id: recorded, or found by its run label (an `evt up` killed before it recorded the id). */
  async containerId(): Promise<string | undefined> {
    if (this.facts.id) return this.facts.id
    if (!this.facts.run) return undefined
    const [found] = await listByLabels({[LABEL_RUN]: this.facts.run})
    if (found) this.facts.id = found.Id
    return found?.Id
  }

  private async requireId(): Promise<string> {
    const id = await this.containerId()
    if (!id)
      throw new UnreachableError(
        `the container of broker "${this.name}" no longer exists`,
        'Start a new one with `evt up`',
      )
    return id
  }

  /** A throwaway container dies with its owner, even on SIGKILL: the watchdog removes it (stop() releases it). */
  watch(): void {
    if (this.cleanup || !this.facts.run) return
    this.cleanup = registerCleanup([
      {kind: 'docker-remove', dockerHost: dockerEndpoint().address, labels: {[LABEL_RUN]: this.facts.run}},
    ])
  }

  private release(): void {
    this.cleanup?.release()
    this.cleanup = undefined
  }

  /**
   * Wait until AMQP and the management API answer, at most timeoutMs; a container that exits stops the wait.
   * On timeout it throws with the container's last log lines (the caller removes the container).
   */
  async waitReady(timeoutMs = 120_000, signal?: AbortSignal): Promise<void> {
    const id = await this.requireId()
    const {amqp} = this.facts.ports
    let exited: string | undefined
    let lastLook = 0
    const started = Date.now()
    const ok = await waitFor(
      async () => {
        if ((await amqpAnswers(this.host, amqp, 500)) && (await managementAnswers(this.managementUrl, 1000)))
          return true
        if (Date.now() - lastLook > 1000) {
          lastLook = Date.now()
          const state = await inspectContainer(id).catch(() => undefined)
          if (!state) exited = 'it was removed'
          else if (!state.State.Running) exited = `it exited with code ${state.State.ExitCode}`
        }
        return false
      },
      {timeoutMs, intervalMs: READY_PROBE_MS, signal, stillAlive: () => exited === undefined},
    )
    if (ok) return
    const tail = await containerLogTail(id, 8)
    const what = `container ${id.slice(0, 12)} (${this.facts.image})`
    throw new UnreachableError(
      exited
        ? `${what} stopped while starting: ${exited}`
        : `${what} was not ready after ${Math.round((Date.now() - started) / 1000)}s (limit ${timeoutMs / 1000}s); it was removed`,
      tail
        ? `Its log ends with:\n${tail}`
        : `Check the image (--image / EVT_IMAGE) and \`docker logs ${id.slice(0, 12)}\``,
    )
  }

  /**
   * Create and start the container (Testcontainers), then wait for readiness. Ctrl-C (signal), a failed start or
   * a missed deadline remove the container, even one whose id was not known yet (it carries this run's label).
   */
  async launch(
    options: {timeoutMs?: number; signal?: AbortSignal; onCreated?: () => Promise<void>} = {},
  ): Promise<void> {
    const spec = containerSpec({
      name: this.name,
      image: this.facts.image,
      amqpPort: this.facts.ports.amqp,
      managementPort: this.facts.ports.management,
      username: this.record.username,
      password: this.record.password,
      run: this.facts.run,
      host: this.host,
      stateHome: this.facts.stateHome,
      member: this.facts.member,
    })
    const signal = options.signal
    const endpoint = dockerEndpoint()
    const removeRun = () => removeByLabels({[LABEL_RUN]: spec.labels[LABEL_RUN]}, endpoint).catch(() => 0)
    if (signal?.aborted) throw signal.reason
    const tc = await loadTestcontainers()
    // evt reports and probes this host; telling Testcontainers saves its guess (which pulls alpine where /.dockerenv exists).
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= this.host

    // Readiness is evt's own wait below (deadline, Ctrl-C, removal); Testcontainers only creates and starts.
    const noWait: import('testcontainers').WaitStrategy = {
      waitUntilReady: async () => undefined,
      withStartupTimeout() {
        return this
      },
      isStartupTimeoutSet: () => false,
      getStartupTimeout: () => 0,
    }
    class EvtContainer extends tc.GenericContainer {
      bindTo(ip: string): this {
        if (!ip) return this
        for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as {HostIp?: string}[][]) {
          for (const b of bindings) b.HostIp = ip
        }
        return this
      }
      /** Names the engine does not know fail at once: no upstream resolver (one that cannot be reached stalls
       *  every lookup of a cut-off peer for 20 s, and the Erlang distribution then drops healthy links too). */
      resolveLocallyOnly(): this {
        this.hostConfig.Dns = ['127.0.0.1']
        this.hostConfig.DnsOptions = ['timeout:1', 'attempts:1']
        return this
      }
    }
    const container = new EvtContainer(spec.image)
      .withName(spec.name)
      .withEnvironment(spec.env)
      .withExposedPorts(...spec.ports)
      .withLabels(spec.labels)
      // evt removes its containers itself (watchdog, labels): Testcontainers' reaper image is never needed.
      .withAutoCleanup(false)
      .withWaitStrategy(noWait)
      .bindTo(spec.bindIp)
    if (spec.network) {
      // Created on the engine's default bridge (its ports are published there), then joined to the cluster's
      // network under its alias: a partition disconnects that network only, and the host still reaches the node.
      container
        .withNetworkMode(spec.network.name)
        .withNetworkAliases(spec.network.alias)
        .withHostname(spec.network.alias)
        .resolveLocallyOnly()
    }
    if (spec.files.length > 0) {
      container.withCopyContentToContainer(spec.files.map((f) => ({content: f.content, target: f.target, mode: 0o644})))
    }

    const starting = container.start()
    let started: Awaited<typeof starting>
    try {
      started = await abortable(starting, signal)
    } catch (err) {
      if (signal?.aborted) {
        // The start cannot be cancelled: let it settle (bounded), then remove what it made.
        await settledWithin(starting, 30_000)
        await removeRun()
        throw signal.reason
      }
      await removeRun()
      throw containerStartError(err as Error, spec.image, endpoint)
    }
    this.facts.id = started.getId()
    const readyStarted = Date.now()
    try {
      await options.onCreated?.()
      await this.waitReady(options.timeoutMs ?? spec.startupTimeoutMs, signal)
    } catch (err) {
      await removeRun()
      throw err
    }
    this.record.readySeconds = (Date.now() - readyStarted) / 1000
  }

  /** Start a container stopped by `evt down --keep-data` (same data, same ports) and wait for it. */
  async resume(timeoutMs = 120_000, signal?: AbortSignal): Promise<void> {
    const id = await this.requireId()
    await startExisting(id).catch((err: Error) => {
      throw containerStartError(err, this.facts.image, dockerEndpoint())
    })
    try {
      await this.waitReady(timeoutMs, signal)
    } catch (err) {
      // Keep the data: stop it again rather than remove it.
      await stopContainer(id, 10).catch(() => undefined)
      throw err
    }
  }

  async restart(): Promise<void> {
    const id = await this.requireId()
    await stopContainer(id, 30)
    await startExisting(id)
    await this.waitReady()
  }

  async killAndRestart(): Promise<void> {
    const id = await this.requireId()
    await killContainer(id, 'SIGKILL')
    await waitFor(async () => !(await inspectContainer(id))?.State.Running, {timeoutMs: 10_000, intervalMs: 50})
    await startExisting(id)
    await this.waitReady()
  }

  /** Remove it (default), or with keepData stop it gracefully and keep it for `evt up` to resume. */
  async stop(options: StopOptions = {}): Promise<void> {
    const id = await this.containerId()
    if (options.keepData) {
      if (id) await stopContainer(id, 30)
    } else if (id) {
      await removeContainer(id)
    } else if (this.facts.run) {
      await removeByLabels({[LABEL_RUN]: this.facts.run})
    }
    this.release()
  }

  async isRunning(): Promise<boolean> {
    return amqpAnswers(this.host, this.facts.ports.amqp)
  }

  /** Whether the container exists (running or stopped). */
  async exists(): Promise<boolean> {
    const id = await this.containerId().catch(() => undefined)
    return id !== undefined && (await inspectContainer(id).catch(() => undefined)) !== undefined
  }
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, {once: true})
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/** Testcontainers' and the engine's failures as exit 3, naming the image, the engine's address and the fix. */
export function containerStartError(
  err: Error,
  image: string,
  endpoint: DockerEndpoint = dockerEndpoint(),
): UnreachableError | UsageError | InterruptedError {
  if (err instanceof InterruptedError || err instanceof UnreachableError || err instanceof UsageError) return err
  const message = String(err?.message ?? err)
  const first = message.split('\n')[0]
  const where = endpoint.address
  if (/ryuk/i.test(message)) {
    return new UnreachableError(
      `Testcontainers' reaper image (testcontainers/ryuk) cannot be had from Docker at ${where}: ${first}`,
      'Set TESTCONTAINERS_RYUK_DISABLED=true (evt removes its own containers without it)',
      err,
    )
  }
  if (/container runtime strategy|docker\.sock|ECONNREFUSED|ENOENT|EACCES|did not answer/i.test(message)) {
    return new UnreachableError(
      `Docker does not answer at ${where} (needed for ${image}): ${first}`,
      'Start Docker (here: `scripts/docker-engine.sh start` and `eval "$(scripts/docker-engine.sh env)"`), or use --runtime local (needs rabbitmq-server: `apt-get install rabbitmq-server` / `brew install rabbitmq`), or --url for an existing broker',
      err,
    )
  }
  if (
    /pull access denied|manifest unknown|not found|no such image|repository does not exist|registry|lookup |dial tcp|i\/o timeout|TLS handshake/i.test(
      message,
    )
  ) {
    return new UnreachableError(
      `the image ${image} is not in Docker at ${where} and could not be pulled: ${first}`,
      'Pull or build it first (scripts/build-rabbitmq-image.sh builds one from Debian packages), or choose another with --image or EVT_IMAGE',
      err,
    )
  }
  if (/port is already allocated|address already in use/i.test(message)) {
    return new UsageError(
      `a port for the ${image} container is already in use: ${first}`,
      'Choose others with --port / --management-port, or omit them to use free ports',
      err,
    )
  }
  return new UnreachableError(
    `the ${image} container did not start in Docker at ${where}: ${first}`,
    'Check the image (--image / EVT_IMAGE) and `docker logs`',
    err,
  )
}

/**
 * Everything a container needs before it runs: ports, credentials, the run label. Nothing is created, so the
 * caller can record the broker first (`evt up`) and launch() it after.
 */
export async function prepareContainer(options: StartOptions = {}): Promise<ContainerBroker> {
  const name = options.name ?? 'default'
  const username = options.username ?? 'evt'
  const password = options.password ?? randomBytes(12).toString('hex')
  const amqpPort = options.amqpPort ?? (await freePort())
  const managementPort = options.managementPort ?? (await freePort())
  const host = containerHost()
  const image = options.image ?? defaultImage()
  const record: BrokerRecord & {container: ContainerFacts} = {
    name,
    runtime: 'container',
    amqpUrl: buildAmqpUrl({protocol: 'amqp', host, port: amqpPort, username, password}),
    managementUrl: buildManagementUrl({host, port: managementPort, username, password}),
    username,
    password,
    startedAt: new Date().toISOString(),
    container: {
      id: '',
      image,
      ports: {amqp: amqpPort, management: managementPort},
      run: randomBytes(6).toString('hex'),
      host,
      ...(options.stateHome ? {stateHome: options.stateHome} : {}),
    },
  }
  return new ContainerBroker(record)
}

/** A container for this process (library, scenarios, tests): removed by stop(), or by the watchdog if we die. */
export async function startContainer(options: StartOptions = {}): Promise<ContainerBroker> {
  const broker = await prepareContainer(options)
  if (!options.detached) broker.watch()
  try {
    await broker.launch({timeoutMs: options.timeoutMs, signal: options.signal})
  } catch (err) {
    await broker.stop().catch(() => undefined)
    throw err
  }
  return broker
}

export function attachContainer(record: BrokerRecord): ContainerBroker {
  if (!record.container) throw new TypeError('not a container broker record')
  return new ContainerBroker(record as BrokerRecord & {container: ContainerFacts})
}

/** Containers labelled with this broker name and state folder (left by an `evt up` killed before it recorded). */
/** Remove them (but the one of run `keepRun`, a recorded one); resolves with how many. */
export async function removeUnrecordedContainers(home: string, name: string, keepRun?: string): Promise<number> {
  if (!(await dockerAnswers())) return 0
  const found = await listByLabels({[LABEL_BROKER]: name, [LABEL_STATE]: home}).catch(() => [])
  const orphans = found.filter((c) => !keepRun || c.Labels[LABEL_RUN] !== keepRun)
  await Promise.all(orphans.map((c) => removeContainer(c.Id).catch(() => undefined)))
  // A container cluster's network goes once none of its members is left (a recorded one keeps its own).
  if (!keepRun) await removeNetworksByLabels({[LABEL_BROKER]: name, [LABEL_STATE]: home}).catch(() => 0)
  return orphans.length
}
