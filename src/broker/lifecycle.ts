import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {acquireLease, brokerLeaseDir, type LeaseHolder, removeIdleLease} from '../config/lease.js'
import {type LockOwner, withLock} from '../config/lock.js'
import {recordedList} from '../config/resolve.js'
import {
  ensurePrivateDir,
  listBrokerNames,
  nodeDataDir,
  readBrokerRecord,
  removeBrokerRecord,
  validateBrokerName,
  writeBrokerRecord,
} from '../config/state.js'
import {UsageError} from '../errors.js'
import {forgetBrokerPasswords} from '../topology/passwords.js'
import {type LocalCluster, prepareCluster, validateNodeCount} from './cluster.js'
import {ClusterBroker} from './cluster-base.js'
import {ContainerBroker, prepareContainer, removeUnrecordedContainers} from './container.js'
import {prepareContainerCluster} from './container-cluster.js'
import {attachBroker, selectClusterRuntime, selectRuntime, startBroker} from './index.js'
import {LocalBroker, launchFresh, prepareLocal} from './local.js'
import {isSameProcess, processStartTime} from './process.js'
import {type Broker, type BrokerRecord, isContainerCluster, type RuntimeChoice, type RuntimeKind} from './types.js'

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
  timeoutMs?: number
  /** How many nodes (default 1; an odd number >= 3 starts a local cluster). */
  nodes?: number
  /** Called when a new broker is about to be started (not when one is found running). */
  onStarting?: (runtime: RuntimeKind) => void
  /** Called when another evt process holds the broker's lock and this one waits for it. */
  onWaiting?: (owner: LockOwner) => void
  /** Called when a broker left by an `evt up` that died is cleaned up before starting afresh. */
  onCleaned?: (record: BrokerRecord) => void
  /** One-line notices: why `auto` did not pick a container, containers found without a record and removed. */
  onNotice?: (line: string) => void
}

export interface UpResult {
  broker: Broker
  /** The broker was already running: nothing was started. */
  alreadyRunning: boolean
  /** A broker stopped with `evt down --keep-data` was started again on its data. */
  resumed: boolean
  /** A broker whose `evt up` died while starting it was found ready and taken over. */
  adopted?: boolean
  readySeconds: number
}

/** The lock file that serialises `evt up` / `evt down` of one broker name. */
async function brokerLock<T>(
  home: string,
  name: string,
  work: () => Promise<T>,
  options: {signal?: AbortSignal; onWaiting?: (owner: LockOwner) => void} = {},
): Promise<T> {
  const dir = await ensurePrivateDir(home, 'locks')
  return withLock(join(dir, `${validateBrokerName(name)}.lock`), work, {
    what: `broker "${name}"`,
    onWait: options.onWaiting,
    signal: options.signal,
  })
}

/** Whether the `evt up` that recorded this broker as starting still runs. */
function ownerAlive(record: BrokerRecord): boolean {
  return record.owner !== undefined && isSameProcess(record.owner.pid, record.owner.startTime)
}

/** A record read from disk, with what `evt down` may remove decided here, not by the file. */
function trusted(home: string, record: BrokerRecord): BrokerRecord {
  if (record.cluster && !isContainerCluster(record.cluster)) {
    const ours = record.cluster.dataDir === nodeDataDir(home, record.name)
    return {...record, cluster: {...record.cluster, ownsDataDir: ours}}
  }
  if (!record.local) return record
  const ours = record.local.dataDir === nodeDataDir(home, record.name)
  return {...record, local: {...record.local, ownsDataDir: ours}}
}

/**
 * `evt up`: start (or find, resume or adopt) the named broker. Under an exclusive per-name lock: a second
 * `evt up` of the same name waits, then reports the running broker. The broker is recorded (state
 * starting, with this process as owner) before anything is launched, so an `evt up` killed mid-start leaves
 * a record the next `evt up` or `evt down` cleans.
 */
export async function up(options: UpOptions): Promise<UpResult> {
  validateBrokerName(options.name)
  if (options.nodes !== undefined) validateNodeCount(options.nodes)
  return brokerLock(options.home, options.name, () => upLocked(options), options)
}

async function upLocked(options: UpOptions): Promise<UpResult> {
  const {home, name} = options
  const found = await readBrokerRecord(home, name)
  if (found) {
    const existing = trusted(home, found)
    const broker = attachBroker(existing)
    const state = existing.state ?? 'running'
    const recordedNodes = existing.cluster?.nodes.length ?? 1
    if (options.nodes !== undefined && options.nodes !== recordedNodes && state !== 'starting') {
      throw new UsageError(
        `broker "${name}" is recorded with ${recordedNodes} node${recordedNodes === 1 ? '' : 's'}, not ${options.nodes}`,
        `Run \`evt down${name === 'default' ? '' : ` --name ${name}`}\` first, or pick another --name`,
      )
    }
    if (state === 'starting' && !ownerAlive(existing)) {
      // Its `evt up` died. Ready by now: take it over; otherwise remove what it left.
      if (broker instanceof ContainerBroker) await broker.containerId().catch(() => undefined)
      // A cluster is taken over only whole (every node up, one cluster in every node's view, its feature flags
      // enabled): its `evt up` may have died halfway through forming it.
      const ready =
        broker instanceof ClusterBroker
          ? (await broker.wholeInEveryView().catch(() => false)) &&
            (await broker.enableFeatureFlags().then(
              () => true,
              () => false,
            ))
          : await broker.isRunning()
      if (ready) {
        await writeBrokerRecord(home, {...broker.record, state: 'running', owner: undefined})
        return {broker, alreadyRunning: true, resumed: false, adopted: true, readySeconds: 0}
      }
      await broker.stop()
      await removeBrokerRecord(home, name)
      options.onCleaned?.(existing)
    } else if (broker instanceof ClusterBroker) {
      return resumeCluster(options, broker)
    } else if (await broker.isRunning()) {
      return {broker, alreadyRunning: true, resumed: false, readySeconds: 0}
    } else if (existing.runtime === 'local' && broker instanceof LocalBroker) {
      // Stopped with --keep-data, or crashed: leftovers (a hung VM, helpers) go first, the data stays.
      await broker.kill()
      options.onStarting?.('local')
      const started = Date.now()
      await writeBrokerRecord(home, {...broker.record, state: 'starting', owner: me()})
      try {
        await broker.launch(options.timeoutMs ?? 60_000, options.signal, () =>
          writeBrokerRecord(home, {...broker.record, state: 'starting', owner: me()}).then(() => undefined),
        )
      } catch (err) {
        await broker.stop({keepData: true}).catch(() => undefined)
        await writeBrokerRecord(home, {...broker.record, state: 'stopped', owner: undefined})
        throw err
      }
      const readySeconds = (Date.now() - started) / 1000
      broker.record.readySeconds = readySeconds
      broker.record.startedAt = new Date().toISOString()
      await writeBrokerRecord(home, {...broker.record, state: 'running', owner: undefined})
      return {broker, alreadyRunning: false, resumed: true, readySeconds}
    } else if (broker instanceof ContainerBroker && (await broker.exists())) {
      // Stopped with --keep-data (or stopped by someone): start the same container, on its data and ports.
      options.onStarting?.('container')
      const started = Date.now()
      await writeBrokerRecord(home, {...broker.record, state: 'starting', owner: me()})
      try {
        await broker.resume(options.timeoutMs ?? 120_000, options.signal)
      } catch (err) {
        await writeBrokerRecord(home, {...broker.record, state: 'stopped', owner: undefined})
        throw err
      }
      const readySeconds = (Date.now() - started) / 1000
      broker.record.readySeconds = readySeconds
      broker.record.startedAt = new Date().toISOString()
      await writeBrokerRecord(home, {...broker.record, state: 'running', owner: undefined})
      await removeUnrecordedContainers(home, name, broker.facts.run)
      return {broker, alreadyRunning: false, resumed: true, readySeconds}
    } else {
      // A container gone, or an external broker that no longer answers: forget it and start afresh.
      if (broker instanceof ContainerBroker)
        options.onNotice?.(`The container of "${name}" no longer exists: starting a new one.`)
      await broker.stop().catch(() => undefined)
      await removeBrokerRecord(home, name)
    }
  }

  // Containers (and networks) of this name and state folder with no record: an `evt up` killed before it wrote one.
  const orphans = await removeUnrecordedContainers(home, name)
  if (orphans > 0) options.onNotice?.(`Removed ${orphans} container(s) of "${name}" that no \`evt up\` had recorded.`)

  if ((options.nodes ?? 1) > 1) {
    const runtime = await selectClusterRuntime(options.runtime, {image: options.image, onNotice: options.onNotice})
    options.onStarting?.(runtime)
    return runtime === 'container' ? upContainerCluster(options) : upCluster(options)
  }

  const runtime: RuntimeKind = await selectRuntime(options.runtime, {
    url: options.url,
    image: options.image,
    onNotice: options.onNotice,
  })
  options.onStarting?.(runtime)
  if (runtime === 'local') return upLocal(options)
  if (runtime === 'container') return upContainer(options)
  const broker = await startBroker({
    runtime,
    name,
    amqpPort: options.amqpPort,
    managementPort: options.managementPort,
    image: options.image,
    url: options.url,
    managementUrl: options.managementUrl,
    detached: true,
    signal: options.signal,
  })
  await writeBrokerRecord(home, {...broker.record, state: 'running'})
  return {broker, alreadyRunning: false, resumed: false, readySeconds: broker.record.readySeconds ?? 0}
}

function me(): {pid: number; startTime?: string} {
  return {pid: process.pid, startTime: processStartTime(process.pid)}
}

/**
 * The data folder of a broker about to start (a node, or a cluster's nodes under it), empty. No record exists and
 * we hold the name's lock: whatever is in the folder is left from an interrupted start.
 */
async function freshDataDir(home: string, name: string): Promise<string> {
  const dataDir = nodeDataDir(home, name)
  await rm(dataDir, {recursive: true, force: true})
  await ensurePrivateDir(home, 'nodes')
  return dataDir
}

/** A fresh local node: folder, record (starting), launch, record (running); any failure removes all of it. */
async function upLocal(options: UpOptions): Promise<UpResult> {
  const {home, name} = options
  const dataDir = await freshDataDir(home, name)
  let broker: LocalBroker | undefined
  try {
    broker = await prepareLocal({
      name,
      amqpPort: options.amqpPort,
      managementPort: options.managementPort,
      dataDir,
      detached: true,
    })
    broker.record.local.ownsDataDir = true
    const b = broker
    await writeBrokerRecord(home, {...b.record, state: 'starting', owner: me()})
    const started = Date.now()
    // Written at each spawn: a relaunch on new ports (one was taken) is recorded with them.
    await launchFresh(b, options, options.timeoutMs ?? 60_000, options.signal, async () => {
      await writeBrokerRecord(home, {...b.record, state: 'starting', owner: me()})
    })
    b.record.readySeconds = (Date.now() - started) / 1000
    await writeBrokerRecord(home, {...b.record, state: 'running', owner: undefined})
    return {broker: b, alreadyRunning: false, resumed: false, readySeconds: b.record.readySeconds}
  } catch (err) {
    // Ctrl-C, a node that would not start, a port taken: nothing stays, not even the folder with the password.
    if (broker) await broker.stop().catch(() => undefined)
    await rm(dataDir, {recursive: true, force: true})
    await removeBrokerRecord(home, name)
    throw err
  }
}

/** A fresh container: record (starting, with its run label), create, record the id, wait, record (running). */
async function upContainer(options: UpOptions): Promise<UpResult> {
  const {home, name} = options
  const broker = await prepareContainer({
    name,
    amqpPort: options.amqpPort,
    managementPort: options.managementPort,
    image: options.image,
    stateHome: home,
    detached: true,
  })
  await writeBrokerRecord(home, {...broker.record, state: 'starting', owner: me()})
  const started = Date.now()
  try {
    await broker.launch({
      timeoutMs: options.timeoutMs ?? 120_000,
      signal: options.signal,
      onCreated: async () => {
        await writeBrokerRecord(home, {...broker.record, state: 'starting', owner: me()})
      },
    })
  } catch (err) {
    // Ctrl-C, an image that would not start, a missed deadline: launch() removed the container; the record goes too.
    await broker.stop().catch(() => undefined)
    await removeBrokerRecord(home, name)
    throw err
  }
  const readySeconds = (Date.now() - started) / 1000
  broker.record.readySeconds = readySeconds
  await writeBrokerRecord(home, {...broker.record, state: 'running', owner: undefined})
  return {broker, alreadyRunning: false, resumed: false, readySeconds}
}

/**
 * A fresh local cluster under the state folder (nodes/<name>/n1 ...). While it starts, a watchdog kills
 * every node and removes the folder should this process die (even by SIGKILL); released once recorded
 * running, since `evt up` leaves the cluster running on purpose.
 */
async function upCluster(options: UpOptions): Promise<UpResult> {
  const {home, name} = options
  const dataDir = await freshDataDir(home, name)
  let cluster: LocalCluster | undefined
  try {
    cluster = await prepareCluster({
      name,
      nodes: options.nodes ?? 3,
      amqpPort: options.amqpPort,
      managementPort: options.managementPort,
      dataDir,
      detached: true,
    })
    const c = cluster
    c.record.cluster.ownsDataDir = true
    c.watch()
    await writeBrokerRecord(home, {...c.record, state: 'starting', owner: me()})
    const started = Date.now()
    await c.launch(
      options.timeoutMs ?? 120_000,
      options.signal,
      async () => {
        await writeBrokerRecord(home, {...c.record, state: 'starting', owner: me()})
      },
      {fresh: true},
    )
    c.record.readySeconds = (Date.now() - started) / 1000
    await writeBrokerRecord(home, {...c.record, state: 'running', owner: undefined})
    c.unwatch()
    return {broker: c, alreadyRunning: false, resumed: false, readySeconds: c.record.readySeconds}
  } catch (err) {
    if (cluster) await cluster.stop().catch(() => undefined)
    await rm(dataDir, {recursive: true, force: true})
    await removeBrokerRecord(home, name)
    throw err
  }
}

/**
 * A fresh container cluster: record (starting, with its labels), create the network and members, record
 * (running). A watchdog removes all of it should this process die before it is recorded running.
 */
async function upContainerCluster(options: UpOptions): Promise<UpResult> {
  const {home, name} = options
  const cluster = await prepareContainerCluster({
    name,
    nodes: options.nodes ?? 3,
    amqpPort: options.amqpPort,
    managementPort: options.managementPort,
    image: options.image,
    stateHome: home,
    detached: true,
  })
  cluster.watch()
  await writeBrokerRecord(home, {...cluster.record, state: 'starting', owner: me()})
  const started = Date.now()
  try {
    await cluster.launch(options.timeoutMs ?? 180_000, options.signal, async () => {
      await writeBrokerRecord(home, {...cluster.record, state: 'starting', owner: me()})
    })
  } catch (err) {
    await cluster.stop().catch(() => undefined)
    await removeBrokerRecord(home, name)
    throw err
  }
  cluster.record.readySeconds = (Date.now() - started) / 1000
  await writeBrokerRecord(home, {...cluster.record, state: 'running', owner: undefined})
  cluster.unwatch()
  return {broker: cluster, alreadyRunning: false, resumed: false, readySeconds: cluster.record.readySeconds}
}

/**
 * `evt up` of a recorded cluster: every node running means nothing to do; otherwise the nodes that are
 * down (stopped with --keep-data, killed, crashed) are started again on their data, all at once.
 */
async function resumeCluster(options: UpOptions, cluster: ClusterBroker): Promise<UpResult> {
  const running = await cluster.nodesRunning()
  if (running.every(Boolean)) return {broker: cluster, alreadyRunning: true, resumed: false, readySeconds: 0}
  options.onStarting?.(cluster.runtime)
  const started = Date.now()
  await writeBrokerRecord(options.home, {...cluster.record, state: 'starting', owner: me()})
  try {
    // A resume boots as many nodes as a fresh start: the same deadline.
    await cluster.startDownNodes(running, options.timeoutMs ?? 180_000, options.signal)
  } catch (err) {
    // The record says stopped: so it is, every node (those this attempt started too), with the data kept.
    await cluster.stop({keepData: true}).catch(() => undefined)
    await writeBrokerRecord(options.home, {...cluster.record, state: 'stopped', owner: undefined})
    throw err
  }
  const readySeconds = (Date.now() - started) / 1000
  cluster.record.readySeconds = readySeconds
  cluster.record.startedAt = new Date().toISOString()
  await writeBrokerRecord(options.home, {...cluster.record, state: 'running', owner: undefined})
  return {broker: cluster, alreadyRunning: false, resumed: true, readySeconds}
}

export interface DownResult {
  name: string
  stopped: boolean
  runtime?: RuntimeKind
  keptData: boolean
  seconds: number
  /** When nothing was stopped: the brokers that are recorded, and where. */
  recorded?: string[]
  home?: string
  /** A broker whose `evt up` had died while starting it. */
  cleanedInterruptedStart?: boolean
}

/**
 * `evt down`: stop the named broker and remove its data and record (and the passwords evt generated for
 * its users), or with keepData stop it gracefully and keep both. Under the broker's lock.
 */
export async function down(options: {
  home: string
  name: string
  keepData?: boolean
  onWaiting?: (owner: LockOwner) => void
  /** Stop it even while an `evt scenario` uses it (that run errors); else wait for the runs to finish. */
  force?: boolean
  /** How long to wait for scenario runs on it (default 10 minutes), then exit 3. */
  waitMs?: number
  onScenarioWait?: (holders: LeaseHolder[]) => void
}): Promise<DownResult> {
  validateBrokerName(options.name)
  const leaseDir = await brokerLeaseDir(options.home, options.name)
  const release = options.force
    ? undefined
    : await acquireLease(leaseDir, {
        exclusive: true,
        what: 'evt down',
        subject: `broker "${options.name}"`,
        timeoutMs: options.waitMs,
        onWait: options.onScenarioWait,
        busyHint: 'Wait for it to finish, or stop the broker anyway with `evt down --force` (that run then errors)',
      })
  try {
    return await downLocked(options)
  } finally {
    await release?.()
    // The lease folder goes with the broker, unless a run took it meanwhile.
    await removeIdleLease(leaseDir).catch(() => {})
  }
}

async function downLocked(options: {
  home: string
  name: string
  keepData?: boolean
  onWaiting?: (owner: LockOwner) => void
}): Promise<DownResult> {
  const started = Date.now()
  return brokerLock(
    options.home,
    options.name,
    async () => {
      const found = await readBrokerRecord(options.home, options.name)
      if (!found) {
        // No record, but containers labelled with this name and state folder: an `evt up` killed before recording.
        const orphans = await removeUnrecordedContainers(options.home, options.name)
        if (orphans > 0) {
          return {
            name: options.name,
            stopped: true,
            runtime: 'container',
            keptData: false,
            seconds: (Date.now() - started) / 1000,
            cleanedInterruptedStart: true,
          }
        }
        return {
          name: options.name,
          stopped: false,
          keptData: false,
          seconds: 0,
          recorded: await listBrokerNames(options.home),
          home: options.home,
        }
      }
      const record = trusted(options.home, found)
      const interrupted = record.state === 'starting' && !ownerAlive(record)
      const broker = attachBroker(record)
      const keepData = Boolean(options.keepData) && !interrupted
      await broker.stop({keepData})
      if (broker instanceof ContainerBroker)
        await removeUnrecordedContainers(options.home, options.name, broker.facts.run)
      if (keepData) {
        await writeBrokerRecord(options.home, {...broker.record, state: 'stopped', owner: undefined})
      } else {
        await removeBrokerRecord(options.home, options.name)
        await forgetBrokerPasswords(options.home, record.managementUrl)
      }
      return {
        name: options.name,
        stopped: true,
        runtime: record.runtime,
        keptData: keepData,
        seconds: (Date.now() - started) / 1000,
        ...(interrupted ? {cleanedInterruptedStart: true} : {}),
      }
    },
    {onWaiting: options.onWaiting},
  )
}

/** The text for a `down` that found nothing. */
export function nothingToStop(result: DownResult): string {
  return `nothing to stop: no broker "${result.name}" is recorded in ${result.home}. ${recordedList(result.recorded ?? [])}.`
}

/** After a restart in this process (scenarios), the record on disk must follow the new pids. */
export async function saveBrokerRecord(home: string, record: BrokerRecord): Promise<void> {
  await writeBrokerRecord(home, record)
}
