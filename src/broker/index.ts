import {UsageError} from '../errors.js'
import {attachCluster, startCluster, validateNodeCount} from './cluster.js'
import type {ClusterBroker} from './cluster-base.js'
import {attachContainer, containerUnavailable, defaultImage, startContainer} from './container.js'
import {attachContainerCluster, startContainerCluster} from './container-cluster.js'
import {ExternalBroker, useExternal} from './external.js'
import {attachLocal, findRabbitmqBinDir, noRabbitmqError, startLocal} from './local.js'
import {
  type Broker,
  type BrokerRecord,
  isContainerCluster,
  type RuntimeChoice,
  type RuntimeKind,
  type StartOptions,
} from './types.js'

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
): Promise<ClusterBroker>
export async function startBroker(options?: StartOptions & {onNotice?: (line: string) => void}): Promise<Broker>
export async function startBroker(options: StartOptions & {onNotice?: (line: string) => void} = {}): Promise<Broker> {
  if (options.nodes !== undefined && options.nodes !== 1) {
    validateNodeCount(options.nodes)
    const runtime = await selectClusterRuntime(options.runtime ?? 'auto', {
      image: options.image,
      onNotice: options.onNotice,
    })
    if (runtime === 'local') return startCluster({...options, nodes: options.nodes})
    return startContainerCluster({...options, nodes: options.nodes})
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
 * Where a cluster runs: containers on a private network, or private local nodes; `auto` chooses as for one
 * node (a container when Docker can run the image, else local nodes). An external broker is not started.
 */
export async function selectClusterRuntime(
  choice: RuntimeChoice,
  options: {image?: string; onNotice?: (line: string) => void} = {},
  probe: RuntimeProbe = realProbe,
): Promise<'local' | 'container'> {
  if (choice === 'local' || choice === 'container') return choice
  if (choice === 'auto') {
    const runtime = await selectRuntime('auto', options, probe)
    if (runtime === 'local' || runtime === 'container') return runtime
  }
  throw new UsageError(
    `the ${choice} runtime does not start clusters`,
    'Use --runtime container (containers on a private network) or --runtime local (private rabbitmq-server nodes) with --nodes, or one node',
  )
}

/** A Broker handle for a broker started earlier (by `evt up` in another process). */
export function attachBroker(record: BrokerRecord): Broker {
  if (isContainerCluster(record.cluster)) return attachContainerCluster(record)
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
export {ClusterBroker, type ClusterMember, type QuorumQueueInfo} from './cluster-base.js'
export {ContainerCluster, startContainerCluster} from './container-cluster.js'
export type {Broker, BrokerRecord, RuntimeChoice, RuntimeKind, StartOptions, StopOptions} from './types.js'
