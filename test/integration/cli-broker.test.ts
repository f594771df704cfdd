import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {freePort} from '../../src/broker/probe.js'
import {parseAmqpUrl} from '../../src/config/url.js'
import {waitFor} from '../../src/util/time.js'
import {sharedBroker} from '../helpers/broker.js'
import {runCli, spawnCli} from '../helpers/cli.js'
import {portClosed, processesWithEnv} from '../helpers/processes.js'

let home: string
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-cli-'))
})
afterAll(async () => {
  // Whatever a failed test left running.
  for (const name of ['alpha', 'beta', 'ctrlc']) await runCli(['down', '--name', name], {env: {EVT_HOME: home}})
  await rm(home, {recursive: true, force: true})
})

describe('evt up / status / down', () => {
  it('runs two named brokers side by side, reports, and stops both', async () => {
    const env = {EVT_HOME: home}
    const [a, b] = await Promise.all([
      runCli(['up', '--runtime', 'local', '--name', 'alpha', '--no-provision', '--json'], {env}),
      runCli(['up', '--runtime', 'local', '--name', 'beta', '--no-provision', '--json'], {env}),
    ])
    expect(a.code, a.stdout + a.stderr).toBe(0)
    expect(b.code, b.stdout + b.stderr).toBe(0)
    const ra = JSON.parse(a.stdout)
    const rb = JSON.parse(b.stdout)
    expect(ra).toMatchObject({name: 'alpha', runtime: 'local', status: 'started'})
    expect(ra.amqpUrl).toContain('****')
    expect(ra.managementUrl).toContain('****')
    expect(ra.readySeconds).toBeGreaterThan(0)
    expect(rb.node).not.toBe(ra.node)
    expect(parseAmqpUrl(ra.amqpUrl).port).not.toBe(parseAmqpUrl(rb.amqpUrl).port)
    expect((await stat(join(home, 'brokers', 'alpha.json'))).mode & 0o777).toBe(0o600)

    const again = await runCli(['up', '--name', 'alpha'], {env})
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('already running')
    expect(again.stdout).not.toMatch(/evt:[0-9a-f]{24}@/)

    const status = await runCli(['status', '--name', 'beta', '--json'], {env})
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const st = JSON.parse(status.stdout)
    expect(st).toMatchObject({runtime: 'local', source: 'state', node: rb.node})
    expect(st.version).toMatch(/^\d+\.\d+/)
    expect(st.amqpUrl).not.toMatch(/evt:[0-9a-f]{24}@/)

    const secret = await runCli(['up', '--name', 'alpha', '--json', '--show-secrets'], {env})
    expect(JSON.parse(secret.stdout).amqpUrl).toMatch(/evt:[0-9a-f]{24}@/)

    const recordA = JSON.parse(await readFile(join(home, 'brokers', 'alpha.json'), 'utf8'))
    // The check below can fail: the node's processes are found while it runs.
    expect(processesWithEnv(`RABBITMQ_NODENAME=${ra.node}`).length).toBeGreaterThan(0)
    const downA = await runCli(['down', '--name', 'alpha'], {env})
    const downB = await runCli(['down', '--name', 'beta', '--json'], {env})
    expect(downA.code).toBe(0)
    expect(downB.code).toBe(0)
    expect(JSON.parse(downB.stdout)).toMatchObject({stopped: true, runtime: 'local'})
    expect(JSON.parse(downB.stdout).seconds).toBeLessThan(1)
    expect(processesWithEnv(`RABBITMQ_NODENAME=${ra.node}`)).toEqual([])
    for (const port of Object.values(recordA.local.ports) as number[])
      expect(await portClosed(port), `port ${port}`).toBe(true)
    expect(processesWithEnv(`RABBITMQ_NODENAME=${rb.node}`)).toEqual([])

    const none = await runCli(['down', '--name', 'alpha'], {env})
    expect(none.code).toBe(0)
    expect(none.stdout).toContain('nothing to stop')
  })

  it('leaves no process behind when interrupted during start', async () => {
    const child = spawnCli(['up', '--runtime', 'local', '--name', 'ctrlc', '--no-provision'], {env: {EVT_HOME: home}})
    // Interrupt once the node's processes exist (mid-start), whatever the machine's load.
    // The node name is in the processes' environment (RABBITMQ_NODENAME), not their command line.
    const nodeProcesses = () => processesWithEnv('RABBITMQ_NODENAME=evt-ctrlc-')
    expect(await waitFor(() => nodeProcesses().length > 0, {timeoutMs: 30_000, intervalMs: 50})).toBe(true)
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).not.toBe(0)
    expect(await waitFor(() => nodeProcesses().length === 0, {timeoutMs: 10_000})).toBe(true)
    const down = await runCli(['down', '--name', 'ctrlc'], {env: {EVT_HOME: home}})
    expect(down.stdout).toContain('nothing to stop')
  })
})

describe('errors users will hit: one line, the documented exit code, within 5 s', () => {
  it('nothing listening at the URL: exit 3', async () => {
    const port = await freePort()
    const started = Date.now()
    const r = await runCli(['status', '--url', `amqp://u:secretpw@127.0.0.1:${port}`], {env: {EVT_HOME: home}})
    expect(r.code).toBe(3)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(r.stderr).toMatch(/nothing is listening at amqp:\/\/u:\*\*\*\*@127\.0\.0\.1/)
    expect(r.stderr).not.toContain('secretpw')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('wrong credentials: exit 3, "access refused for user X"', async () => {
    const {amqpUrl} = sharedBroker()
    const p = parseAmqpUrl(amqpUrl)
    const r = await runCli(['status', '--url', `amqp://${p.username}:wrongpw@127.0.0.1:${p.port}`], {
      env: {EVT_HOME: home},
    })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(`access refused for user ${p.username}`)
    expect(r.stderr).not.toContain('wrongpw')
  })

  it('vhost missing: exit 3 naming the vhost', async () => {
    const {amqpUrl, managementUrl} = sharedBroker()
    const r = await runCli(
      ['status', '--url', amqpUrl, '--management-url', managementUrl, '--vhost', 'no-such-vhost'],
      {
        env: {EVT_HOME: home},
      },
    )
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('vhost "no-such-vhost" not found')
  })

  it('management API unreachable: exit 3', async () => {
    const {amqpUrl} = sharedBroker()
    const port = await freePort()
    const r = await runCli(['status', '--url', amqpUrl, '--management-url', `http://127.0.0.1:${port}`], {
      env: {EVT_HOME: home},
    })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('management API is not reachable')
  })

  it('the same errors under --json: an error object and the same exit code', async () => {
    const port = await freePort()
    const r = await runCli(['status', '--json', '--url', `amqp://u:p@127.0.0.1:${port}`], {env: {EVT_HOME: home}})
    expect(r.code).toBe(3)
    expect(JSON.parse(r.stdout).error).toMatchObject({exitCode: 3})
  })

  it('a port already in use for evt up --port: exit 2 naming the port', async () => {
    const port = parseAmqpUrl(sharedBroker().amqpUrl).port
    const r = await runCli(['up', '--runtime', 'local', '--name', 'busy', '--port', String(port)], {
      env: {EVT_HOME: home},
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`port ${port}`)
  })

  it('a bad flag value: exit 2, no stack trace', async () => {
    const r = await runCli(['up', '--runtime', 'nope'], {env: {EVT_HOME: home}})
    expect(r.code).toBe(2)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('evt node with no recorded broker: exit 3, like any unknown --name', async () => {
    const r = await runCli(['node', 'kill', '1', '--name', 'nocluster'], {env: {EVT_HOME: home}})
    expect(r.code).toBe(3)
    expect(r.stderr.trim()).toMatch(/^Error: no broker "nocluster" is recorded in .*evt up --nodes 3/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
