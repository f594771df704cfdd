// The yardstick for `evt up`: a bare rabbitmq-server started the way the RabbitMQ docs describe for a
// private node (own dir, ports, cookie, epmd; management plugin on), timed to AMQP + management ready.
// Only the readiness probes come from evt (the same ones `evt up` uses), so both sides poll alike.
import {execFile, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, openSync, readFileSync} from 'node:fs'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const BIN_DIRS = ['/usr/lib/rabbitmq/bin', '/usr/local/lib/rabbitmq/bin', '/opt/rabbitmq/sbin']

export function rabbitmqBinDir() {
  return BIN_DIRS.find((d) => existsSync(join(d, 'rabbitmq-server')))
}

/** Start a bare node; resolves once AMQP and the management API answer. */
export async function startBareNode({freePort, amqpAnswers, managementAnswers}) {
  const started = performance.now()
  const binDir = rabbitmqBinDir()
  if (!binDir) throw new Error('rabbitmq-server not found (looked in ' + BIN_DIRS.join(', ') + ')')
  const dir = await mkdtemp(join(tmpdir(), 'evt-bench-bare-'))
  const [amqp, management, dist, epmd] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const pass = randomBytes(8).toString('hex')
  await mkdir(join(dir, 'log'), {recursive: true})
  await writeFile(join(dir, '.erlang.cookie'), randomBytes(20).toString('hex').toUpperCase(), {mode: 0o400})
  await writeFile(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${amqp}`,
      'default_user = bench',
      `default_pass = ${pass}`,
      'default_user_tags.administrator = true',
      'loopback_users = none',
      'disk_free_limit.absolute = 50MB',
      'log.console = false',
      'management.tcp.ip = 127.0.0.1',
      `management.tcp.port = ${management}`,
      '',
    ].join('\n'),
  )
  await writeFile(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n')
  await writeFile(join(dir, 'rabbitmq-env.conf'), '')
  const erlArgs = '-kernel inet_dist_use_interface {127,0,0,1}'
  const env = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: dir,
    RABBITMQ_NODENAME: `bare-${randomBytes(3).toString('hex')}@localhost`,
    RABBITMQ_USE_LONGNAME: 'false',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqp),
    RABBITMQ_DIST_PORT: String(dist),
    ERL_EPMD_PORT: String(epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_BASE: dir,
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins-expand'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: erlArgs,
    RABBITMQ_CTL_ERL_ARGS: erlArgs,
  }
  const out = openSync(join(dir, 'log', 'launcher.log'), 'a')
  const child = spawn(join(binDir, 'rabbitmq-server'), [], {env, cwd: dir, detached: true, stdio: ['ignore', out, out]})
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  const managementUrl = `http://bench:${pass}@127.0.0.1:${management}`
  const deadline = Date.now() + 60_000
  while (!((await amqpAnswers('127.0.0.1', amqp)) && (await managementAnswers(managementUrl)))) {
    if (exited || Date.now() > deadline) {
      await stop()
      throw new Error(`the bare node did not start; see ${join(dir, 'log')}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  const readyMs = performance.now() - started

  async function stop() {
    let pid = 0
    try {
      pid = Number(readFileSync(join(dir, 'rabbitmq.pid'), 'utf8').trim())
      if (pid) process.kill(pid, 'SIGKILL')
    } catch {
      // no pid file yet
    }
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
    // The node's epmd refuses `-kill` while the node is still registered: wait until the VM is gone.
    for (let i = 0; i < 100 && pid && alive(pid); i++) await new Promise((r) => setTimeout(r, 20))
    for (let i = 0; i < 10; i++) {
      const out = await new Promise((resolve) =>
        execFile('epmd', ['-port', String(epmd), '-kill'], {env, timeout: 5000}, (_e, stdout) =>
          resolve(String(stdout)),
        ),
      )
      if (!/not allowed/i.test(out)) break
      await new Promise((r) => setTimeout(r, 100))
    }
    await rm(dir, {recursive: true, force: true})
  }
  return {readyMs, stop}
}

/** Whether pid runs (a zombie waiting to be reaped counts as gone). */
function alive(pid) {
  try {
    process.kill(pid, 0)
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}
