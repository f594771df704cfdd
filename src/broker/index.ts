import {UsageError} from '../errors.js'
import {attachContainer, dockerAnswers, startContainer} from './container.js'
import {ExternalBroker, useExternal} from './external.js'
import {attachLocal, findRabbitmqBinDir, noRabbitmqError, startLocal} from './local.js'
import type {Broker, BrokerRecord, RuntimeChoice, RuntimeKind, StartOptions} from './types.js'

export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ['auto', 'local', 'container', 'external']

export interface RuntimeProbe {
  docker: () => Promise<boolean>
  rabbitmqInstalled: () => boolean
}

const realProbe: RuntimeProbe = {
  docker: () => dockerAnswers(),
  rabbitmqInstalled: () => findRabbitmqBinDir() !== undefined,
}

/**
 * Which runtime `auto` means here: a URL means external; else a container when Docker answers;
 * else a private local node when rabbitmq-server is installed; else exit 3 naming the fixes.
 */
export async function selectRuntime(
  choice: RuntimeChoice,
  options: {url?: string} = {},
  probe: RuntimeProbe = realProbe,
): Promise<RuntimeKind> {
  if (choice !== 'auto') return choice
  if (options.url) return 'external'
  if (await probe.docker()) return 'container'
  if (probe.rabbitmqInstalled()) return 'local'
  throw noRabbitmqError()
}

/**
 * Start a broker the way `evt up` does, for a CLI or a test suite:
 * `const broker = await startBroker({runtime: 'local'})` ... `await broker.stop()`.
 */
export async function startBroker(options: StartOptions = {}): Promise<Broker> {
  const runtime = await selectRuntime(options.runtime ?? 'auto', {url: options.url})
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

/** A Broker handle for a broker started earlier (by `evt up` in another process). */
export function attachBroker(record: BrokerRecord): Broker {
  switch (record.runtime) {
    case 'local':
      return attachLocal(record)
    case 'container':
      return attachContainer(record)
    default:
      return new ExternalBroker(record)
  }
}

export type {Broker, BrokerRecord, RuntimeChoice, RuntimeKind, StartOptions, StopOptions} from './types.js'
