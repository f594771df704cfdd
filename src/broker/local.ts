import {type ChildProcess, execFile, execFileSync, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, openSync, readFileSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {buildAmqpUrl, buildManagementUrl} from '../config/url.js'
import {UnreachableError, UsageError} from '../errors.js'
import {waitFor} from '../util/time.js'
import {CLUSTER_MEMBER_ERL_ARGS, PRIVATE_NODE_ERL_ARGS} from './cluster-base.js'
import {amqpAnswers, freePort, managementAnswers, portInUse} from './probe.js'
import {belongsToNode, isAlive, nodeProcesses, sendSignal} from './process.js'
import {type BrokerRecord, type LocalNodeFacts, RecordedBroker, type StartOptions, type StopOptions} from './types.js'
import {type CleanupHandle, registerCleanup} from './watchdog.js'

/** Folders where the RabbitMQ server scripts live, most specific first. */
const BIN_DIRS = [
  '/usr/lib/rabbitmq/bin', // Debian/Ubuntu: the real scripts (the /usr/sbin wrappers switch to the rabbitmq user)
  '/opt/homebrew/opt/rabbitmq/sbin',
  '/usr/local/opt/rabbitmq/sbin',
]

/** The folder holding rabbitmq-server, or undefined when RabbitMQ is not installed. */
export function findRabbitmqBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    ...(env.EVT_RABBITMQ_BIN_DIR ? [env.EVT_RABBITMQ_BIN_DIR] : []),
    ...BIN_DIRS,
    ...(env.PATH ?? '').split(delimiter),
  ]
  return candidates.find((dir) => dir && existsSync(join(dir, 'rabbitmq-server')))
}

/** The node's rabbitmq.conf: loopback only, its own ports and user. */
export function nodeConfig(facts: LocalNodeFacts, username: string, password: string, extra: string[] = []): string {
  return [
    `listeners.tcp.1 = 127.0.0.1:${facts.ports.amqp}`,
    `default_user = ${username}`,
    `default_pass = ${password}`,
    'default_user_tags.administrator = true',
    'default_permissions.configure = .*',
    'default_permissions.read = .*',
    'default_permissions.write = .*',
    'loopback_users = none',
    'disk_free_limit.absolute = 50MB',
    'log.console = false',
    'log.file.level = info',
    'management.tcp.ip = 127.0.0.1',
    `management.tcp.port = ${facts.ports.management}`,
    ...extra,
    '',
  ].join('\n')
}

/** The environment that isolates a node (and any CLI call at it) from the machine's own RabbitMQ. */
export function nodeEnv(facts: LocalNodeFacts, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const d = facts.dataDir
  const erlArgs = [
    '-kernel inet_dist_use_interface {127,0,0,1}',
    PRIVATE_NODE_ERL_ARGS,
    ...(facts.netTicktime ? [`-kernel net_ticktime ${facts.netTicktime}`] : []),
    ...(facts.netTicktime ? [CLUSTER_MEMBER_ERL_ARGS] : []),
    ...(facts.distSourceIp
      ? [`-kernel inet_dist_connect_options [{ip,{${facts.distSourceIp.replace(/\./g, ',')}}}]`]
      : []),
  ].join(' ')
  return {
    PATH: base.PATH,
    LANG: base.LANG ?? 'C.UTF-8',
    HOME: d,
    RABBITMQ_NODENAME: facts.nodeName,
    RABBITMQ_USE_LONGNAME: 'false',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(facts.ports.amqp),
    RABBITMQ_DIST_PORT: String(facts.ports.dist),
    ERL_EPMD_PORT: String(facts.ports.epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_CONF_ENV_FILE: join(d, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
    RABBITMQ_BASE: d,
    RABBITMQ_MNESIA_BASE: join(d, 'mnesia'),
    RABBITMQ_LOG_BASE: join(d, 'log'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(d, 'plugins-expand'),
    RABBITMQ_PID_FILE: join(d, 'rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: erlArgs,
    RABBITMQ_CTL_ERL_ARGS: erlArgs,
  }
}

/** The Erlang VM's pid, from the pid file the node writes once it has booted far enough. */
function readVmPid(facts: LocalNodeFacts): number | undefined {
  try {
    const pid = Number(readFileSync(join(facts.dataDir, 'rabbitmq.pid'), 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The node could not listen on a port evt had found free: another program took it in between. */
export class PortTakenError extends UnreachableError {}

/** Whether the node's logs say it died because one of its ports was taken. */
function lostAPort(facts: LocalNodeFacts): boolean {
  return /eaddrinuse|dist_port_already_used/.test(logTail(facts, 40))
}

function logTail(facts: LocalNodeFacts, lines = 8): string {
  for (const file of [
    join(facts.dataDir, 'log', 'launcher.log'),
    join(facts.dataDir, 'log', `${facts.nodeName}.log`),
  ]) {
    try {
      const text = readFileSync(file, 'utf8').trim()
      if (text) return text.split('\n').slice(-lines).join('\n')
    } catch {
      // try the next one
    }
  }
  return ''
}

export class LocalBroker extends RecordedBroker<BrokerRecord & {local: LocalNodeFacts}> {
  readonly runtime = 'local' as const
  readonly canRestart = true
  private child?: ChildProcess
  private exitHook?: () => void
  private cleanup?: CleanupHandle

  constructor(
    record: BrokerRecord & {local: LocalNodeFacts},
    private readonly detached: boolean,
  ) {
    super(record)
  }

  get facts(): LocalNodeFacts {
    return this.record.local
  }

  /** New free ports for all but those asked for, in the facts, the URLs and the node's config (not launched). */
  async choosePortsAgain(asked: {amqpPort?: number; managementPort?: number}): Promise<void> {
    const {facts, record} = this
    facts.ports = {
      amqp: asked.amqpPort ?? (await freePort()),
      management: asked.managementPort ?? (await freePort()),
      dist: await freePort(),
      epmd: await freePort(),
    }
    const [username, password] = [record.username ?? '', record.password ?? '']
    Object.assign(record, nodeUrls(facts, username, password))
    await writeFile(join(facts.dataDir, 'rabbitmq.conf'), nodeConfig(facts, username, password), {mode: 0o600})
  }

  /**
   * Launch the node on its data folder and wait for AMQP and the management API. onSpawn runs as soon as
   * the launcher has a pid (`evt up` records it there, before waiting).
   */
  async launch(timeoutMs = 60_000, signal?: AbortSignal, onSpawn?: () => Promise<void>): Promise<void> {
    const binDir = findRabbitmqBinDir()
    if (!binDir) throw noRabbitmqError()
    const facts = this.facts
    await mkdir(join(facts.dataDir, 'log'), {recursive: true})
    await rm(join(facts.dataDir, 'rabbitmq.pid'), {force: true})
    await startEpmd(facts)
    const out = openSync(join(facts.dataDir, 'log', 'launcher.log'), 'a')
    const child = spawn(join(binDir, 'rabbitmq-server'), [], {
      env: nodeEnv(facts),
      cwd: facts.dataDir,
      detached: true,
      stdio: ['ignore', out, out],
    })
    this.child = child
    let exited = false
    child.once('exit', () => {
      exited = true
    })
    if (!child.pid) throw new UnreachableError('could not start rabbitmq-server', `look in ${facts.dataDir}/log`)
    facts.launcherPid = child.pid
    if (this.detached) child.unref()
    else this.installExitHook()

    const ready = async () =>
      (await amqpAnswers('127.0.0.1', facts.ports.amqp)) && (await managementAnswers(this.managementUrl))
    let ok = false
    try {
      await onSpawn?.()
      ok = await waitFor(ready, {timeoutMs, intervalMs: 50, signal, stillAlive: () => !exited})
    } catch (err) {
      await this.kill()
      await stopOwnEpmd(facts)
      throw err
    }
    if (!ok) {
      const tail = logTail(facts)
      const portTaken = exited && lostAPort(facts)
      await this.kill()
      await stopOwnEpmd(facts)
      if (portTaken) {
        throw new PortTakenError(
          `the RabbitMQ node could not listen on one of its ports (${Object.values(facts.ports).join(', ')}): another program took it`,
          tail ? `Its log ends with:\n${tail}` : `Look in ${facts.dataDir}/log`,
        )
      }
      throw new UnreachableError(
        exited
          ? 'the RabbitMQ node exited while starting'
          : `the RabbitMQ node was not ready after ${timeoutMs / 1000}s`,
        tail ? `Its log ends with:\n${tail}` : `Look in ${facts.dataDir}/log`,
      )
    }
  }

  /**
   * A throwaway node dies with its owner, even on SIGKILL: a watchdog process kills it and removes its
   * folder once this process is gone (stop() releases it).
   */
  watch(): void {
    if (this.cleanup) return
    const f = this.facts
    this.cleanup = registerCleanup([
      {kind: 'kill-node', nodeName: f.nodeName, pidFile: join(f.dataDir, 'rabbitmq.pid')},
      ...(f.ownsDataDir ? [{kind: 'remove-path' as const, path: f.dataDir}] : []),
    ])
  }

  private installExitHook(): void {
    if (this.exitHook) return
    // A library user's process that dies without stop() must not leave a node behind.
    this.exitHook = () => {
      for (const pid of this.nodePids()) sendSignal(pid, 'SIGKILL')
      if (!this.facts.epmdMarker) stopEpmdSync(this.facts)
    }
    process.once('exit', this.exitHook)
  }

  private removeExitHook(): void {
    if (this.exitHook) process.removeListener('exit', this.exitHook)
    this.exitHook = undefined
  }

  /**
   * The node's processes, each checked to be this node's own (its environment names the node): the VM from
   * the pid file, the launcher, and on Linux whatever else runs with the node's name (a launcher whose pid
   * was never recorded, helpers). A recycled pid or a planted pid file is never signalled.
   */
  nodePids(): number[] {
    const {nodeName, launcherPid} = this.facts
    const pids = new Set<number>()
    const vm = readVmPid(this.facts)
    if (vm && belongsToNode(vm, nodeName)) pids.add(vm)
    if (launcherPid && belongsToNode(launcherPid, nodeName)) pids.add(launcherPid)
    for (const pid of nodeProcesses(nodeName)) pids.add(pid)
    return [...pids]
  }

  /**
   * SIGKILL every process of the node until none is left. One pass is not enough: a launcher caught mid-start
   * may have forked a child after the processes were listed, and that child would run on as an orphan node.
   */
  async kill(): Promise<void> {
    await waitFor(
      async () => {
        const pids = this.nodePids()
        for (const pid of pids) sendSignal(pid, 'SIGKILL')
        return pids.length === 0 && !isAlive(this.ownChildPid())
      },
      {timeoutMs: 5000, intervalMs: 20},
    )
  }

  private ownChildPid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined
  }

  /** SIGTERM to the VM, which stops the node cleanly (flushes queues), then wait for it to exit. */
  private async terminate(): Promise<void> {
    const vm = readVmPid(this.facts)
    if (!vm || !belongsToNode(vm, this.facts.nodeName)) return this.kill()
    sendSignal(vm, 'SIGTERM')
    const gone = await waitFor(async () => !isAlive(vm), {timeoutMs: 60_000, intervalMs: 50})
    if (!gone) await this.kill()
    // The launcher shell exits right after the VM; anything left (helpers) is killed.
    const rest = () => this.nodePids().filter((p) => p !== vm)
    if (!(await waitFor(async () => rest().length === 0, {timeoutMs: 2000, intervalMs: 20}))) await this.kill()
  }

  async restart(): Promise<void> {
    await this.terminate()
    await this.nameReleased()
    await this.launch()
  }

  async killAndRestart(): Promise<void> {
    await this.kill()
    await this.nameReleased()
    await this.launch()
  }

  /**
   * After a SIGKILL, epmd drops the node's name when it sees the connection close; on a loaded machine that can
   * lag the kill, and a node started meanwhile exits at once ("name in use").
   */
  private async nameReleased(): Promise<void> {
    const shortName = this.facts.nodeName.split('@')[0]
    const registered = () =>
      new Promise<boolean>((resolve) => {
        execFile(
          'epmd',
          ['-port', String(this.facts.ports.epmd), '-names'],
          {env: nodeEnv(this.facts), timeout: 2000},
          (err, stdout) => resolve(!err && new RegExp(`^name ${shortName} at port`, 'm').test(stdout)),
        )
      })
    await waitFor(async () => !(await registered()), {timeoutMs: 10_000, intervalMs: 50})
  }

  /**
   * Stop and start the RabbitMQ application inside the running Erlang VM: queues and message stores close
   * and recover from disk, mnesia's RAM tables go, what RabbitMQ's own recovery suites call restart_broker.
   * Skips the VM's halt and boot (about 8 of the 16 s a node restart takes here).
   */
  async restartApp(timeoutMs = 60_000): Promise<void> {
    await rabbitmqCli(this.facts, 'rabbitmqctl', ['stop_app'], timeoutMs)
    await rabbitmqCli(this.facts, 'rabbitmqctl', ['start_app'], timeoutMs)
    const ready = async () =>
      (await amqpAnswers('127.0.0.1', this.facts.ports.amqp)) && (await managementAnswers(this.managementUrl))
    if (!(await waitFor(ready, {timeoutMs, intervalMs: 50}))) {
      throw new UnreachableError(
        `the RabbitMQ application was not ready ${timeoutMs / 1000}s after start_app`,
        `look in ${this.facts.dataDir}/log`,
      )
    }
  }

  async stop(options: StopOptions = {}): Promise<void> {
    if (options.graceful || options.keepData) await this.terminate()
    else await this.kill()
    this.removeExitHook()
    await stopOwnEpmd(this.facts)
    if (!options.keepData && this.facts.ownsDataDir) await rm(this.facts.dataDir, {recursive: true, force: true})
    this.cleanup?.release()
    this.cleanup = undefined
  }

  async isRunning(): Promise<boolean> {
    return amqpAnswers('127.0.0.1', this.facts.ports.amqp)
  }
}

/**
 * Each node gets an epmd of its own, started by us with -relaxed_command_check: a plain epmd refuses
 * `epmd -kill` while a node is still registered, and outlives the node otherwise.
 */
export function startEpmd(facts: LocalNodeFacts): Promise<void> {
  // A cluster's epmd runs under its marker name: killing a node never takes the cluster's epmd with it.
  const env = facts.epmdMarker ? {...nodeEnv(facts), RABBITMQ_NODENAME: facts.epmdMarker} : nodeEnv(facts)
  return new Promise((resolve) => {
    execFile(
      'epmd',
      ['-daemon', '-relaxed_command_check', '-port', String(facts.ports.epmd), '-address', '127.0.0.1'],
      {env, timeout: 5000},
      () => resolve(),
    )
  })
}

/** A single node's own epmd; a cluster member's epmd is the cluster's to stop. */
function stopOwnEpmd(facts: LocalNodeFacts): Promise<void> {
  return facts.epmdMarker ? Promise.resolve() : stopEpmd(facts)
}

/** Stop the node's epmd (and only that one), and make sure its port is closed. */
export async function stopEpmd(facts: LocalNodeFacts): Promise<void> {
  const kill = () =>
    new Promise<void>((resolve) => {
      execFile('epmd', ['-port', String(facts.ports.epmd), '-kill'], {env: nodeEnv(facts), timeout: 5000}, () =>
        resolve(),
      )
    })
  for (let attempt = 0; attempt < 5; attempt++) {
    await kill()
    if (!(await portInUse(facts.ports.epmd))) return
    await new Promise((r) => setTimeout(r, 100))
  }
}

function stopEpmdSync(facts: LocalNodeFacts): void {
  try {
    execFileSync('epmd', ['-port', String(facts.ports.epmd), '-kill'], {
      env: nodeEnv(facts),
      timeout: 2000,
      stdio: 'ignore',
    })
  } catch {
    // not running
  }
}

export function noRabbitmqError(containerReason?: string): UnreachableError {
  return new UnreachableError(
    `no broker runtime available: ${containerReason ?? 'Docker does not answer'} and rabbitmq-server is not installed`,
    'Install Docker, or RabbitMQ (`apt-get install rabbitmq-server` / `brew install rabbitmq`), or pass --url amqp://user:pass@host:5672 for an existing broker',
  )
}

async function choosePort(requested: number | undefined, what: string, flag: string): Promise<number> {
  if (requested === undefined) return freePort()
  if (await portInUse(requested)) {
    throw new UsageError(
      `port ${requested} (${what}) is already in use`,
      `Choose another with ${flag}, or omit it to use a free port`,
    )
  }
  return requested
}

/**
 * Everything a node needs before it runs: ports, data folder, cookie, config. Nothing is started, so the
 * caller can record the broker first (`evt up`) and launch() it after.
 */
export async function prepareLocal(options: StartOptions = {}): Promise<LocalBroker> {
  if (!findRabbitmqBinDir()) throw noRabbitmqError()
  const name = options.name ?? 'default'
  const amqp = await choosePort(options.amqpPort, 'AMQP', '--port')
  const management = await choosePort(options.managementPort, 'management', '--management-port')
  const [dist, epmd] = [await freePort(), await freePort()]
  const ownsDataDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `evt-${name}-`)))
  await mkdir(dataDir, {recursive: true, mode: 0o700})
  const username = options.username ?? 'evt'
  const password = options.password ?? randomBytes(12).toString('hex')
  const facts: LocalNodeFacts = {
    nodeName: `evt-${name}-${randomBytes(3).toString('hex')}@localhost`,
    dataDir,
    launcherPid: 0,
    ports: {amqp, management, dist, epmd},
    ownsDataDir,
  }

  const cookie = join(dataDir, '.erlang.cookie')
  if (!existsSync(cookie)) {
    await writeFile(cookie, randomBytes(20).toString('hex').toUpperCase(), {mode: 0o400})
  }
  await chmod(cookie, 0o400)
  await writeFile(join(dataDir, 'rabbitmq.conf'), nodeConfig(facts, username, password), {mode: 0o600})
  await writeFile(join(dataDir, 'enabled_plugins'), '[rabbitmq_management].\n')
  await writeFile(join(dataDir, 'rabbitmq-env.conf'), '')

  const record: BrokerRecord & {local: LocalNodeFacts} = {
    name,
    runtime: 'local',
    ...nodeUrls(facts, username, password),
    username,
    password,
    startedAt: new Date().toISOString(),
    local: facts,
  }
  return new LocalBroker(record, options.detached ?? false)
}

/**
 * Launch a fresh node; if another program takes one of the ports evt chose before the node binds it, choose new
 * ones (never the ports asked for) and launch again, up to three attempts. onSpawn sees the ports of each attempt.
 */
export async function launchFresh(
  broker: LocalBroker,
  asked: {amqpPort?: number; managementPort?: number},
  timeoutMs?: number,
  signal?: AbortSignal,
  onSpawn?: () => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await broker.launch(timeoutMs, signal, onSpawn)
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt === 3) throw err
      // New ports cannot help when the one taken is a port the user asked for.
      for (const port of [asked.amqpPort, asked.managementPort]) if (port && (await portInUse(port))) throw err
      await broker.choosePortsAgain(asked)
    }
  }
}

function nodeUrls(facts: LocalNodeFacts, username: string, password: string) {
  return {
    amqpUrl: buildAmqpUrl({protocol: 'amqp', host: '127.0.0.1', port: facts.ports.amqp, username, password}),
    managementUrl: buildManagementUrl({host: '127.0.0.1', port: facts.ports.management, username, password}),
  }
}

export async function startLocal(options: StartOptions = {}): Promise<LocalBroker> {
  const broker = await prepareLocal(options)
  if (!options.detached) broker.watch()
  const started = Date.now()
  try {
    await launchFresh(broker, options, options.timeoutMs, options.signal)
  } catch (err) {
    await broker.stop()
    throw err
  }
  broker.record.readySeconds = (Date.now() - started) / 1000
  return broker
}

/** Re-attach to a node started by another process (evt down, evt status). */
export function attachLocal(record: BrokerRecord): LocalBroker {
  if (!record.local) throw new TypeError('not a local broker record')
  return new LocalBroker(record as BrokerRecord & {local: LocalNodeFacts}, true)
}

/** Run a RabbitMQ CLI tool (rabbitmqctl, rabbitmq-queues ...) against a node evt started; resolves its stdout. */
function rabbitmqCli(facts: LocalNodeFacts, tool: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const binDir = findRabbitmqBinDir()
  if (!binDir) return Promise.reject(noRabbitmqError())
  return new Promise((resolve, reject) => {
    execFile(
      join(binDir, tool),
      ['-n', facts.nodeName, ...args],
      {env: nodeEnv(facts), timeout: timeoutMs},
      (err, stdout, stderr) =>
        err
          ? reject(
              new UnreachableError(
                `${tool} ${args.join(' ')} failed: ${(stderr || err.message).trim().split('\n')[0]}`,
              ),
            )
          : resolve(stdout),
    )
  })
}
