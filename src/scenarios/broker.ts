import {attachBroker, startBroker} from '../broker/index.js'
import {saveBrokerRecord} from '../broker/lifecycle.js'
import type {Broker, RuntimeChoice} from '../broker/types.js'
import type {ConnectionSettings} from '../config/resolve.js'
import {readBrokerRecord} from '../config/state.js'
import {maskUrl} from '../config/url.js'
import {UnreachableError} from '../errors.js'
import {InterruptedError, interruptScope} from '../util/signals.js'
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
  options: {
    home: string
    runtime?: RuntimeChoice
    image?: string
    signal?: AbortSignal
    onStarting?: () => void
    onNotice?: (line: string) => void
    /** Share or hold an `evt up` broker with other runs, before looking at it (another run may be restarting it). */
    lease?: (brokerName: string, signal?: AbortSignal) => Promise<() => Promise<void>>
  },
): Promise<ScenarioBroker> {
  if (settings.source === 'state' && settings.broker) {
    const name = settings.broker.name
    const unlease = (await options.lease?.(name, options.signal)) ?? (async () => {})
    // Read again: the run this one waited for may have restarted it (new pids) or `evt down` removed it.
    const record = options.lease ? await readBrokerRecord(options.home, name).catch(() => undefined) : settings.broker
    if (!record) {
      await unlease()
      throw new UnreachableError(
        `no broker "${name}" is recorded any more (stopped while this run waited?)`,
        'Start it again with `evt up`',
      )
    }
    const broker = attachBroker(record)
    if (!(await broker.isRunning().catch(() => false))) {
      await unlease()
      throw new UnreachableError(
        `the broker "${name}" recorded by \`evt up\` does not answer at ${maskUrl(broker.amqpUrl)}`,
        'Start it again with `evt up`, or remove it with `evt down`',
      )
    }
    return {
      broker,
      source: 'evt-up',
      onRestart: (b) => saveBrokerRecord(options.home, b.record),
      release: unlease,
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
  const broker = await startBroker({
    runtime: options.runtime ?? 'auto',
    name: 'scenario',
    image: options.image,
    signal: options.signal,
    onNotice: options.onNotice,
  })
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
 * Acquire the broker, run `work` on it, release it. The first Ctrl-C or SIGTERM aborts the signal handed to
 * `work` (scenarios stop at their next look, delete their vhosts, and a restart in progress finishes first);
 * a throwaway broker is then stopped before this returns. A second signal exits at once. If the signal came
 * while a throwaway broker was starting, InterruptedError is thrown after it is removed.
 */
export async function withScenarioBroker<T>(
  settings: ConnectionSettings,
  options: {
    home: string
    runtime?: RuntimeChoice
    image?: string
    onStarting?: () => void
    onNotice?: (line: string) => void
    lease?: (brokerName: string, signal?: AbortSignal) => Promise<() => Promise<void>>
  },
  work: (target: ScenarioBroker, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let target: ScenarioBroker | undefined
  const interrupts = interruptScope()
  try {
    try {
      target = await acquireScenarioBroker(settings, {...options, signal: interrupts.signal})
    } catch (err) {
      if (interrupts.received) throw new InterruptedError(interrupts.received)
      throw err
    }
    if (interrupts.received) throw new InterruptedError(interrupts.received)
    return await work(target, interrupts.signal)
  } finally {
    try {
      await target?.release()
    } finally {
      interrupts.dispose()
    }
  }
}
