import {type ChildProcess, execFile, execFileSync, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, openSync, readFileSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {buildAmqpUrl} from '../config/url.js'
import {UnreachableError, UsageError} from '../errors.js'
import {amqpAnswers, freePort, managementAnswers, portInUse, waitFor} from './probe.js'
import {type BrokerRecord, type LocalNodeFacts, RecordedBroker, type StartOptions, type StopOptions} from './types.js'

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
export function nodeConfig(facts: LocalNodeFacts, username: string, password: string): string {
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
    '',
  ].join('\n')
}

/** The environment that isolates a node (and any CLI call at it) from the machine's own RabbitMQ. */
export function nodeEnv(facts: LocalNodeFacts, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const d = facts.dataDir
  const erlArgs = '-kernel inet_dist_use_interface {127,0,0,1}'
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

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A killed VM whose parent has not reaped it yet is a zombie: dead for our purposes.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
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

/** Whether pid still runs a RabbitMQ launcher (guards against a recycled pid after a reboot). */
function isOurProcess(pid: number): boolean {
  if (!isAlive(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('rabbitmq')
  } catch {
    return true // no /proc (macOS): trust the record
  }
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

  constructor(
    record: BrokerRecord & {local: LocalNodeFacts},
    private readonly detached: boolean,
  ) {
    super(record)
  }

  get facts(): LocalNodeFacts {
    return this.record.local
  }

  /** Launch the node on its data folder and wait for AMQP and the management API. */
  async launch(timeoutMs = 60_000, signal?: AbortSignal): Promise<void> {
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
      ok = await waitFor(ready, {timeoutMs, intervalMs: 50, signal, stillAlive: () => !exited})
    } catch (err) {
      await this.kill()
      await stopEpmd(facts)
      throw err
    }
    if (!ok) {
      const tail = logTail(facts)
      await this.kill()
      await stopEpmd(facts)
      throw new UnreachableError(
        exited
          ? 'the RabbitMQ node exited while starting'
          : `the RabbitMQ node was not ready after ${timeoutMs / 1000}s`,
        tail ? `Its log ends with:\n${tail}` : `Look in ${facts.dataDir}/log`,
      )
    }
  }

  private installExitHook(): void {
    if (this.exitHook) return
    // A library user's process that dies without stop() must not leave a node behind.
    this.exitHook = () => {
      const vm = readVmPid(this.facts)
      if (vm) signal(vm, 'SIGKILL')
      signal(-this.facts.launcherPid, 'SIGKILL')
      stopEpmdSync(this.facts)
    }
    process.once('exit', this.exitHook)
  }

  private removeExitHook(): void {
    if (this.exitHook) process.removeListener('exit', this.exitHook)
    this.exitHook = undefined
  }

  /** SIGKILL the VM and the launcher's process group, and wait until they are gone. */
  private async kill(): Promise<void> {
    const vm = readVmPid(this.facts)
    if (vm) signal(vm, 'SIGKILL')
    if (isOurProcess(this.facts.launcherPid)) signal(-this.facts.launcherPid, 'SIGKILL')
    await waitFor(async () => !isAlive(vm) && !isAlive(this.child?.exitCode === null ? this.child.pid : undefined), {
      timeoutMs: 5000,
      intervalMs: 20,
    })
  }

  /** SIGTERM to the VM, which stops the node cleanly (flushes queues), then wait for it to exit. */
  private async terminate(): Promise<void> {
    const vm = readVmPid(this.facts)
    if (!vm) return this.kill()
    signal(vm, 'SIGTERM')
    const gone = await waitFor(async () => !isAlive(vm), {timeoutMs: 60_000, intervalMs: 50})
    if (!gone) await this.kill()
    // The launcher shell exits right after the VM.
    await waitFor(async () => !isOurProcess(this.facts.launcherPid), {timeoutMs: 2000, intervalMs: 20})
  }

  async restart(): Promise<void> {
    await this.terminate()
    await this.launch()
  }

  async killAndRestart(): Promise<void> {
    await this.kill()
    await this.launch()
  }

  async stop(options: StopOptions = {}): Promise<void> {
    if (options.graceful) await this.terminate()
    else await this.kill()
    this.removeExitHook()
    await stopEpmd(this.facts)
    if (!options.keepData && this.facts.ownsDataDir) await rm(this.facts.dataDir, {recursive: true, force: true})
  }

  async isRunning(): Promise<boolean> {
    return amqpAnswers('127.0.0.1', this.facts.ports.amqp)
  }
}

/**
 * Each node gets an epmd of its own, started by us with -relaxed_command_check: a plain epmd refuses
 * `epmd -kill` while a node is still registered, and outlives the node otherwise.
 */
function startEpmd(facts: LocalNodeFacts): Promise<void> {
  return new Promise((resolve) => {
    execFile(
      'epmd',
      ['-daemon', '-relaxed_command_check', '-port', String(facts.ports.epmd), '-address', '127.0.0.1'],
      {env: nodeEnv(facts), timeout: 5000},
      () => resolve(),
    )
  })
}

/** Stop the node's epmd (and only that one), and make sure its port is closed. */
async function stopEpmd(facts: LocalNodeFacts): Promise<void> {
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

export function noRabbitmqError(): UnreachableError {
  return new UnreachableError(
    'no broker runtime available: Docker does not answer and rabbitmq-server is not installed',
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

export async function startLocal(options: StartOptions = {}): Promise<LocalBroker> {
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
    amqpUrl: buildAmqpUrl({protocol: 'amqp', host: '127.0.0.1', port: amqp, username, password}),
    managementUrl: `http://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${management}`,
    username,
    password,
    startedAt: new Date().toISOString(),
    local: facts,
  }
  const broker = new LocalBroker(record, options.detached ?? false)
  const started = Date.now()
  try {
    await broker.launch(options.timeoutMs, options.signal)
  } catch (err) {
    await stopEpmd(facts)
    if (ownsDataDir) await rm(dataDir, {recursive: true, force: true})
    throw err
  }
  record.readySeconds = (Date.now() - started) / 1000
  return broker
}

/** Re-attach to a node started by another process (evt down, evt status). */
export function attachLocal(record: BrokerRecord): LocalBroker {
  if (!record.local) throw new TypeError('not a local broker record')
  return new LocalBroker(record as BrokerRecord & {local: LocalNodeFacts}, true)
}
