import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {request} from 'node:http'
import {buildAmqpUrl} from '../config/url.js'
import {UnreachableError} from '../errors.js'
import {amqpAnswers, freePort, managementAnswers, waitFor} from './probe.js'
import {type BrokerRecord, type ContainerFacts, RecordedBroker, type StartOptions, type StopOptions} from './types.js'

export const DEFAULT_IMAGE = 'rabbitmq:3.13-management'
export const CONTAINER_LABEL = 'dev.evt.broker'

export interface ContainerSpec {
  image: string
  name: string
  env: Record<string, string>
  /** Fixed host ports, so a restarted container keeps its URLs. */
  ports: {container: number; host: number}[]
  labels: Record<string, string>
  /** Testcontainers' reaper removes a container when its process exits: off when evt up must outlive it. */
  disableReaper: boolean
  startupTimeoutMs: number
}

/** Everything the container runtime asks Docker for, as data (unit-tested; Docker is not needed). */
export function containerSpec(
  options: StartOptions & {amqpPort: number; managementPort: number; username: string; password: string},
): ContainerSpec {
  const name = options.name ?? 'default'
  return {
    image: options.image ?? DEFAULT_IMAGE,
    name: `evt-${name}-${randomBytes(3).toString('hex')}`,
    env: {RABBITMQ_DEFAULT_USER: options.username, RABBITMQ_DEFAULT_PASS: options.password},
    ports: [
      {container: 5672, host: options.amqpPort},
      {container: 15672, host: options.managementPort},
    ],
    labels: {[CONTAINER_LABEL]: name},
    disableReaper: options.detached ?? false,
    startupTimeoutMs: options.timeoutMs ?? 120_000,
  }
}

/**
 * Whether a Docker engine answers, without Testcontainers' ~3 s strategy search:
 * GET /_ping on DOCKER_HOST's unix socket or the default one.
 */
export function dockerAnswers(env: NodeJS.ProcessEnv = process.env, timeoutMs = 1000): Promise<boolean> {
  const host = env.DOCKER_HOST
  let socketPath: string | undefined
  let hostname: string | undefined
  let port: number | undefined
  if (!host) socketPath = '/var/run/docker.sock'
  else if (host.startsWith('unix://')) socketPath = host.slice('unix://'.length)
  else if (host.startsWith('tcp://')) {
    const u = new URL(host.replace(/^tcp:/, 'http:'))
    hostname = u.hostname
    port = Number(u.port || 2375)
  } else return Promise.resolve(false)
  if (socketPath && !existsSync(socketPath)) return Promise.resolve(false)
  return new Promise((resolve) => {
    const req = request({socketPath, hostname, port, path: '/_ping', method: 'GET', timeout: timeoutMs}, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}

async function runtimeClient() {
  const {getContainerRuntimeClient} = await import('testcontainers')
  try {
    return await getContainerRuntimeClient()
  } catch (err) {
    throw new UnreachableError(
      `Docker does not answer: ${(err as Error).message}`,
      'Start Docker, or use --runtime local (needs rabbitmq-server) or --url',
      err,
    )
  }
}

export class ContainerBroker extends RecordedBroker<BrokerRecord & {container: ContainerFacts}> {
  readonly runtime = 'container' as const
  readonly canRestart = true

  private async waitReady(timeoutMs = 120_000): Promise<void> {
    const {amqp} = this.record.container.ports
    const ok = await waitFor(
      async () => (await amqpAnswers('127.0.0.1', amqp)) && (await managementAnswers(this.managementUrl)),
      {timeoutMs, intervalMs: 100},
    )
    if (!ok) throw new UnreachableError(`container ${this.record.container.id.slice(0, 12)} was not ready in time`)
  }

  async restart(): Promise<void> {
    const client = await runtimeClient()
    await client.container.restart(client.container.getById(this.record.container.id), {timeout: 30})
    await this.waitReady()
  }

  async killAndRestart(): Promise<void> {
    const client = await runtimeClient()
    const container = client.container.getById(this.record.container.id)
    await container.kill({signal: 'SIGKILL'})
    await client.container.start(container)
    await this.waitReady()
  }

  async stop(options: StopOptions = {}): Promise<void> {
    const client = await runtimeClient()
    const container = client.container.getById(this.record.container.id)
    if (options.keepData) {
      await client.container.stop(container, {timeout: options.graceful ? 30 : 1})
      return
    }
    try {
      await container.remove({force: true, v: true})
    } catch (err) {
      if ((err as {statusCode?: number}).statusCode !== 404) throw err
    }
  }

  async isRunning(): Promise<boolean> {
    return amqpAnswers('127.0.0.1', this.record.container.ports.amqp)
  }
}

/** Testcontainers' failures as exit 3 with what to do. */
export function containerStartError(err: Error, image: string): UnreachableError {
  const message = String(err?.message ?? err)
  if (/container runtime strategy|docker\.sock|ECONNREFUSED|ENOENT/i.test(message)) {
    return new UnreachableError(
      `Docker does not answer: ${message}`,
      'Start Docker, or use --runtime local (needs rabbitmq-server: `apt-get install rabbitmq-server` / `brew install rabbitmq`), or --url for an existing broker',
      err,
    )
  }
  return new UnreachableError(
    `the ${image} container did not start: ${message.split('\n')[0]}`,
    'Check the image name (--image) and `docker logs`',
    err,
  )
}

export async function startContainer(options: StartOptions = {}): Promise<ContainerBroker> {
  const username = options.username ?? 'evt'
  const password = options.password ?? randomBytes(12).toString('hex')
  const amqpPort = options.amqpPort ?? (await freePort())
  const managementPort = options.managementPort ?? (await freePort())
  const spec = containerSpec({...options, amqpPort, managementPort, username, password})
  if (spec.disableReaper) process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'
  const {RabbitMQContainer} = await import('@testcontainers/rabbitmq')
  const started = Date.now()
  const container = await new RabbitMQContainer(spec.image)
    .withName(spec.name)
    .withEnvironment(spec.env)
    .withExposedPorts(...spec.ports)
    .withLabels(spec.labels)
    .withStartupTimeout(spec.startupTimeoutMs)
    .start()
    .catch((err: Error) => {
      throw containerStartError(err, spec.image)
    })
  const record: BrokerRecord & {container: ContainerFacts} = {
    name: options.name ?? 'default',
    runtime: 'container',
    amqpUrl: buildAmqpUrl({protocol: 'amqp', host: '127.0.0.1', port: amqpPort, username, password}),
    managementUrl: `http://${username}:${password}@127.0.0.1:${managementPort}`,
    username,
    password,
    startedAt: new Date().toISOString(),
    container: {id: container.getId(), image: spec.image, ports: {amqp: amqpPort, management: managementPort}},
  }
  const broker = new ContainerBroker(record)
  await broker['waitReady']()
  record.readySeconds = (Date.now() - started) / 1000
  return broker
}

export function attachContainer(record: BrokerRecord): ContainerBroker {
  if (!record.container) throw new TypeError('not a container broker record')
  return new ContainerBroker(record as BrokerRecord & {container: ContainerFacts})
}
