import {attachBroker, startBroker} from '../broker/index.js'
import {saveBrokerRecord} from '../broker/lifecycle.js'
import type {Broker, RuntimeChoice} from '../broker/types.js'
import type {ConnectionSettings} from '../config/resolve.js'
import {maskUrl} from '../config/url.js'
import {UnreachableError} from '../errors.js'
import type {BrokerSource} from './types.js'

export interface ScenarioBroker {
  broker: Broker
  source: BrokerSource
  /** Write the `evt up` record back after a restart (the node's pids change). */
  onRestart?: (broker: Broker) => Promise<void>
  /** Stop a throwaway broker; nothing for the others. Safe to call twice. */
  release: () => Promise<void>
}

/**
 * Where scenarios run: the broker `evt up` recorded, else --url / RABBITMQ_URL (an external broker that
 * cannot be restarted), else a throwaway broker started for this run and removed by release().
 */
export async function acquireScenarioBroker(
  settings: ConnectionSettings,
  options: {home: string; runtime?: RuntimeChoice; signal?: AbortSignal; onStarting?: () => void},
): Promise<ScenarioBroker> {
  if (settings.source === 'state' && settings.broker) {
    const broker = attachBroker(settings.broker)
    if (!(await broker.isRunning())) {
      throw new UnreachableError(
        `the broker "${settings.broker.name}" recorded by \`evt up\` does not answer at ${maskUrl(broker.amqpUrl)}`,
        'Start it again with `evt up`, or remove it with `evt down`',
      )
    }
    return {
      broker,
      source: 'evt-up',
      onRestart: (b) => saveBrokerRecord(options.home, b.record),
      release: async () => {},
    }
  }
  if (settings.source === 'flag' || settings.source === 'env') {
    const broker = await startBroker({
      runtime: 'external',
      url: settings.amqpUrl,
      managementUrl: settings.managementUrl,
    })
    return {broker, source: 'url', release: async () => {}}
  }
  options.onStarting?.()
  const broker = await startBroker({runtime: options.runtime ?? 'auto', name: 'scenario', signal: options.signal})
  let released = false
  return {
    broker,
    source: 'throwaway',
    release: async () => {
      if (released) return
      released = true
      await broker.stop()
    },
  }
}

/**
 * Acquire the broker, run `work` on it, release it; Ctrl-C or SIGTERM (while a throwaway broker starts or
 * while scenarios run) stops a throwaway broker before the process exits with 130.
 */
export async function withScenarioBroker<T>(
  settings: ConnectionSettings,
  options: {home: string; runtime?: RuntimeChoice; onStarting?: () => void},
  work: (target: ScenarioBroker) => Promise<T>,
): Promise<T> {
  const abort = new AbortController()
  let target: ScenarioBroker | undefined
  const onSignal = () => {
    abort.abort(new Error('interrupted'))
    if (target) void target.release().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    try {
      target = await acquireScenarioBroker(settings, {...options, signal: abort.signal})
    } catch (err) {
      if (abort.signal.aborted) process.exit(130)
      throw err
    }
    return await work(target)
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    await target?.release()
  }
}
