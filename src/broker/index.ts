import {UsageError} from '../errors.js'
import {attachCluster, type LocalCluster, startCluster, validateNodeCount} from './cluster.js'
import {attachContainer, containerUnavailable, defaultImage, startContainer} from './container.js'
import {ExternalBroker, useExternal} from './external.js'
import {attachLocal, findRabbitmqBinDir, noRabbitmqError, startLocal} from './local.js'
import type {Broker, BrokerRecord, RuntimeChoice, RuntimeKind, StartOptions} from './types.js'

export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ['auto', 'local', 'container', 'external']

export interface RuntimeProbe {
  /** Why the container runtime cannot run this image here, or undefined when it can. */
  container: (image: string) => Promise<string | undefined>
  rabbitmqInstalled: () => boolean
}

const realProbe: RuntimeProbe = {
  container: (image) => containerUnavailable(image),
  rabbitmqInstalled: () => findRabbitmqBinDir() !== undefined,
}

/**
 * Which runtime `auto` means here: a URL means external; else a container when Docker answers and the image is
 * present or can be pulled; else a private local node when rabbitmq-server is installed (onNotice says why, in
 * one line, when Docker was there but could not be used); else exit 3 naming the fixes.
 */
export async function selectRuntime(
  choice: RuntimeChoice,
  options: {url?: string; image?: string; onNotice?: (line: string) => void} = {},
  probe: RuntimeProbe = realProbe,
): Promise<RuntimeKind> {
  if (choice !== 'auto') return choice
  if (options.url) return 'external'
  const image = options.image ?? defaultImage()
  const why = await probe.container(image)
  if (!why) return 'container'
  if (probe.rabbitmqInstalled()) {
    if (!/^no Docker engine answers/.test(why)) options.onNotice?.(`Using a local node, not a container: ${why}.`)
    return 'local'
  }
  throw noRabbitmqError(why)
}

/**
 * Start a broker the way `evt up` does, for a CLI or a test suite:
 * `const broker = await startBroker({runtime: 'local'})` ... `await broker.stop()`.
 */
export async function startBroker(
  options: StartOptions & {nodes: number; onNotice?: (line: string) => void},
): Promise<LocalCluster>
export async function startBroker(options?: StartOptions & {onNotice?: (line: string) => void}): Promise<Broker>
export async function startBroker(options: StartOptions & {onNotice?: (line: string) => void} = {}): Promise<Broker> {
  if (options.nodes !== undefined && options.nodes !== 1) {
    validateNodeCount(options.nodes)
    const runtime = await selectClusterRuntime(options.runtime ?? 'auto')
    if (runtime === 'local') return startCluster({...options, nodes: options.nodes})
  }
  const runtime = await selectRuntime(options.runtime ?? 'auto', {
    url: options.url,
    image: options.image,
    onNotice: options.onNotice,
  })
  switch (runtime) {
    case 'local':
      return startLocal(options)
    case 'container':
      return startContainer(options)
    case 'external':
      return useExternal(options)
    default:
      throw new UsageError(`unknown runtime "${runtime}"`, `Choose one of: ${RUNTIME_CHOICES.join(', ')}`)
  }
}

/**
 * Where a cluster runs: only the local runtime starts several nodes today (auto picks it when
 * rabbitmq-server is installed, whatever Docker says).
 */
export async function selectClusterRuntime(choice: RuntimeChoice, probe: RuntimeProbe = realProbe): Promise<'local'> {
  if (choice === 'local') return 'local'
  if (choice === 'auto') {
    if (probe.rabbitmqInstalled()) return 'local'
    throw new UsageError(
      'a cluster (--nodes 3) needs rabbitmq-server installed: the local runtime is the only one that starts several nodes',
      'Install RabbitMQ (`apt-get install rabbitmq-server`), or use one node (--nodes 1)',
    )
  }
  throw new UsageError(
    `the ${choice} runtime does not start clusters`,
    'Use --runtime local (private rabbitmq-server nodes) with --nodes, or one node',
  )
}

/** A Broker handle for a broker started earlier (by `evt up` in another process). */
export function attachBroker(record: BrokerRecord): Broker {
  if (record.cluster) return attachCluster(record)
  switch (record.runtime) {
    case 'local':
      return attachLocal(record)
    case 'container':
      return attachContainer(record)
    default:
      return new ExternalBroker(record)
  }
}

export {attachCluster, LocalCluster, startCluster} from './cluster.js'
export type {Broker, BrokerRecord, RuntimeChoice, RuntimeKind, StartOptions, StopOptions} from './types.js'
