import {join} from 'node:path'
import {isValidBrokerName, readBrokerRecord, removeBrokerRecord, writeBrokerRecord} from '../config/state.js'
import {UsageError} from '../errors.js'
import {attachBroker, selectRuntime, startBroker} from './index.js'
import {LocalBroker} from './local.js'
import type {Broker, BrokerRecord, RuntimeChoice, RuntimeKind} from './types.js'

export interface UpOptions {
  home: string
  name: string
  runtime: RuntimeChoice
  amqpPort?: number
  managementPort?: number
  image?: string
  url?: string
  managementUrl?: string
  signal?: AbortSignal
  /** Called when a new broker is about to be started (not when one is found running). */
  onStarting?: (runtime: RuntimeKind) => void
}

export interface UpResult {
  broker: Broker
  /** The broker was already running: nothing was started. */
  alreadyRunning: boolean
  /** A broker stopped with `evt down --keep-data` was started again on its data. */
  resumed: boolean
  readySeconds: number
}

/** `evt up`: start (or find, or resume) the named broker and record it in the state folder. */
export async function up(options: UpOptions): Promise<UpResult> {
  if (!isValidBrokerName(options.name)) {
    throw new UsageError(
      `invalid broker name "${options.name}"`,
      'Use lower-case letters, digits, - and _ (at most 40 characters)',
    )
  }
  const existing = await readBrokerRecord(options.home, options.name)
  if (existing) {
    const broker = attachBroker(existing)
    if (await broker.isRunning()) return {broker, alreadyRunning: true, resumed: false, readySeconds: 0}
    if (existing.runtime === 'local' && broker instanceof LocalBroker) {
      options.onStarting?.('local')
      const started = Date.now()
      await broker.launch(60_000, options.signal)
      const readySeconds = (Date.now() - started) / 1000
      await writeBrokerRecord(options.home, {...broker.record, readySeconds, startedAt: new Date().toISOString()})
      return {broker, alreadyRunning: false, resumed: true, readySeconds}
    }
    // A container or external broker that no longer answers: forget it and start afresh.
    await removeBrokerRecord(options.home, options.name)
  }
  const runtime: RuntimeKind = await selectRuntime(options.runtime, {url: options.url})
  options.onStarting?.(runtime)
  const broker = await startBroker({
    runtime,
    name: options.name,
    amqpPort: options.amqpPort,
    managementPort: options.managementPort,
    image: options.image,
    url: options.url,
    managementUrl: options.managementUrl,
    dataDir: runtime === 'local' ? join(options.home, 'nodes', options.name) : undefined,
    detached: true,
    signal: options.signal,
  })
  if (broker.record.local) broker.record.local.ownsDataDir = true
  await writeBrokerRecord(options.home, broker.record)
  return {broker, alreadyRunning: false, resumed: false, readySeconds: broker.record.readySeconds ?? 0}
}

export interface DownResult {
  name: string
  stopped: boolean
  runtime?: RuntimeKind
  keptData: boolean
  seconds: number
}

/** `evt down`: stop the named broker; remove its data unless keepData. */
export async function down(options: {home: string; name: string; keepData?: boolean}): Promise<DownResult> {
  const started = Date.now()
  const record = await readBrokerRecord(options.home, options.name)
  if (!record) return {name: options.name, stopped: false, keptData: false, seconds: 0}
  const broker = attachBroker(record)
  await broker.stop({keepData: options.keepData})
  if (options.keepData) await writeBrokerRecord(options.home, broker.record)
  else await removeBrokerRecord(options.home, options.name)
  return {
    name: options.name,
    stopped: true,
    runtime: record.runtime,
    keptData: Boolean(options.keepData),
    seconds: (Date.now() - started) / 1000,
  }
}

/** After a restart in this process (scenarios), the record on disk must follow the new pids. */
export async function saveBrokerRecord(home: string, record: BrokerRecord): Promise<void> {
  await writeBrokerRecord(home, record)
}
