import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isAlive} from '../../src/broker/process.js'
import {waitFor} from '../../src/util/time.js'
import {runCli, spawnCli} from '../helpers/cli.js'
import {listening, processesWithEnv} from '../helpers/processes.js'

let home: string
const env = () => ({EVT_HOME: home})
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-crash-'))
})
afterAll(async () => {
  for (const name of ['crash500', 'crash2000', 'crash4000', 'twin', 'planted', 'ci', 'intr', 'pw'])
    await runCli(['down', '--name', name], {env: env()})
  await rm(home, {recursive: true, force: true})
})

const nodeProcs = (name: string) => processesWithEnv(`RABBITMQ_NODENAME=evt-${name}-`)

async function recordPorts(name: string): Promise<number[]> {
  try {
    const r = JSON.parse(await readFile(join(home, 'brokers', `${name}.json`), 'utf8'))
    return Object.values(r.local?.ports ?? {}) as number[]
  } catch {
    return []
  }
}

describe('evt up killed with SIGKILL while the node starts (a CI timeout)', () => {
  for (const delayMs of [500, 2000, 4000]) {
    it(`at ${delayMs / 1000} s: the next evt up and evt down leave no process, port or folder`, async () => {
      // Each delay owns its broker: a failure in one cannot leave a node the next one finds.
      const name = `crash${delayMs}`
      try {
        const child = spawnCli(['up', '--runtime', 'local', '--name', name, '--no-provision'], {env: env()})
        const closed = new Promise((resolve) => child.on('close', resolve))
        // The point in time is what this test is about: a kill that lands at that moment of the start.
        await new Promise((r) => setTimeout(r, delayMs))
        child.kill('SIGKILL')
        await closed
        const orphanPorts = await recordPorts(name)

        const up = await runCli(['up', '--name', name, '--no-provision', '--json'], {env: env()})
        expect(up.code, up.stderr + up.stdout).toBe(0)
        expect(['started', 'adopted']).toContain(JSON.parse(up.stdout).status)
        const ports = await recordPorts(name)
        // One node, not two on the same data folder.
        const running = nodeProcs(name)
        expect([...new Set(running.map((p) => readEnvName(p)))]).toEqual([JSON.parse(up.stdout).node])

        const down = await runCli(['down', '--name', name], {env: env()})
        expect(down.code, down.stdout + down.stderr).toBe(0)
        expect(await waitFor(() => nodeProcs(name).length === 0, {timeoutMs: 3000})).toBe(true)
        // Nothing listens there any more (a bind test would also count another test's client using it as its
        // ephemeral source port).
        for (const port of [...orphanPorts, ...ports]) {
          expect(await waitFor(() => !listening(port), {timeoutMs: 5000, intervalMs: 100}), `port ${port}`).toBe(true)
        }
        expect(existsSync(join(home, 'nodes', name))).toBe(false)
        expect(existsSync(join(home, 'brokers', `${name}.json`))).toBe(false)
      } finally {
        await runCli(['down', '--name', name], {env: env()})
      }
    })
  }
})

function readEnvName(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/environ`, 'utf8')
    return /RABBITMQ_NODENAME=([^\0]*)/.exec(text)?.[1] ?? ''
  } catch {
    return ''
  }
}

describe('two evt up of the same name at once', () => {
  it('one starts it, the other waits and reports it running; the record is alive', async () => {
    const [a, b] = await Promise.all([
      runCli(['up', '--runtime', 'local', '--name', 'twin', '--no-provision', '--json'], {env: env()}),
      runCli(['up', '--runtime', 'local', '--name', 'twin', '--no-provision', '--json'], {env: env()}),
    ])
    expect(a.code, a.stdout + a.stderr).toBe(0)
    expect(b.code, b.stdout + b.stderr).toBe(0)
    const statuses = [JSON.parse(a.stdout).status, JSON.parse(b.stdout).status].sort()
    expect(statuses).toEqual(['already-running', 'started'])
    expect(JSON.parse(a.stdout).node).toBe(JSON.parse(b.stdout).node)
    const all = await runCli(['status', '--all', '--json'], {env: env()})
    expect(JSON.parse(all.stdout).brokers).toEqual([expect.objectContaining({name: 'twin', liveness: 'running'})])
    expect((await runCli(['down', '--name', 'twin'], {env: env()})).code).toBe(0)
    expect(nodeProcs('twin')).toEqual([])
  })
})

describe('unsafe names, planted records and pids', () => {
  it('down --name ../passwords is exit 2 and the password store stays', async () => {
    await writeFile(join(home, 'passwords.json'), '{}', {mode: 0o600})
    const r = await runCli(['down', '--name', '../passwords'], {env: env()})
    expect(r.code).toBe(2)
    expect(existsSync(join(home, 'passwords.json'))).toBe(true)
  })

  it('a planted record makes down remove no foreign folder and signal no foreign pid', async () => {
    const victim = await mkdtemp(join(tmpdir(), 'evt-victim-'))
    const sleeper = spawn('sleep', ['60'], {stdio: 'ignore'})
    try {
      await mkdir(join(home, 'brokers'), {recursive: true})
      await writeFile(join(victim, 'rabbitmq.pid'), String(sleeper.pid))
      const record = {
        name: 'planted',
        runtime: 'local',
        amqpUrl: 'amqp://evt:x@127.0.0.1:1',
        managementUrl: 'http://evt:x@127.0.0.1:2',
        username: 'evt',
        password: 'x',
        startedAt: 'then',
        state: 'running',
        local: {
          nodeName: 'evt-planted-000000@localhost',
          dataDir: victim,
          launcherPid: sleeper.pid,
          ports: {amqp: 1, management: 2, dist: 3, epmd: 4},
          ownsDataDir: true,
        },
      }
      await writeFile(join(home, 'brokers', 'planted.json'), JSON.stringify(record), {mode: 0o600})
      const r = await runCli(['down', '--name', 'planted'], {env: env()})
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(existsSync(victim)).toBe(true)
      expect(isAlive(sleeper.pid)).toBe(true)
    } finally {
      sleeper.kill('SIGKILL')
      await rm(victim, {recursive: true, force: true})
    }
  })
})

describe('which broker a command talks to', () => {
  it('after evt up --name ci, plain commands use ci, also from a subfolder; --name typo is exit 3 naming ci', async () => {
    const project = await mkdtemp(join(tmpdir(), 'evt-proj-'))
    try {
      const up = await runCli(['up', '--runtime', 'local', '--name', 'ci', '--no-provision', '--json'], {cwd: project})
      expect(up.code, up.stdout + up.stderr).toBe(0)
      await mkdir(join(project, 'a', 'b'), {recursive: true})
      const status = await runCli(['status', '--json'], {cwd: join(project, 'a', 'b')})
      expect(status.code, status.stdout + status.stderr).toBe(0)
      expect(JSON.parse(status.stdout)).toMatchObject({source: 'state', node: JSON.parse(up.stdout).node})

      const typo = await runCli(['status', '--name', 'typo'], {cwd: project})
      expect(typo.code).toBe(3)
      expect(typo.stderr).toMatch(/no broker "typo".*Recorded: ci/)
      const scenario = await runCli(['scenario', 'fanout', '--name', 'typo', '--json'], {cwd: project})
      expect(scenario.code).toBe(3)
      expect(JSON.parse(scenario.stdout).error.message).toContain('"typo"')
      const down = await runCli(['down', '--name', 'typo'], {cwd: project})
      expect(down.stdout).toMatch(/nothing to stop.*Recorded: ci/)

      expect((await runCli(['down'], {cwd: join(project, 'a')})).code).toBe(0)
      const after = await runCli(['status', '--name', 'ci'], {cwd: project})
      expect(after.code).toBe(3)
      expect(after.stderr).not.toContain('localhost:5672')
    } finally {
      await runCli(['down', '--name', 'ci'], {cwd: project})
      await rm(project, {recursive: true, force: true})
    }
  })
})

describe('interrupts and secrets', () => {
  it('Ctrl-C during evt up removes the data folder (and the password in its rabbitmq.conf)', async () => {
    const child = spawnCli(['up', '--runtime', 'local', '--name', 'intr', '--no-provision'], {env: env()})
    const closed = new Promise((resolve) => child.on('close', resolve))
    expect(
      await waitFor(() => existsSync(join(home, 'nodes', 'intr', 'rabbitmq.conf')), {
        timeoutMs: 10_000,
        intervalMs: 20,
      }),
    ).toBe(true)
    child.kill('SIGINT')
    await closed
    expect(existsSync(join(home, 'nodes', 'intr'))).toBe(false)
    expect(existsSync(join(home, 'brokers', 'intr.json'))).toBe(false)
    expect(await waitFor(() => nodeProcs('intr').length === 0, {timeoutMs: 3000})).toBe(true)
  })

  it('evt down removes the passwords evt generated for the broker users', async () => {
    const up = await runCli(['up', '--runtime', 'local', '--name', 'pw', '--json'], {env: env(), timeoutMs: 120_000})
    expect(up.code, up.stdout + up.stderr).toBe(0)
    const ui = JSON.parse(up.stdout).managementUi.replace(/\/$/, '')
    const before = JSON.parse(await readFile(join(home, 'passwords.json'), 'utf8'))
    expect(Object.keys(before)).toContain(ui)
    expect((await runCli(['down', '--name', 'pw'], {env: env()})).code).toBe(0)
    const after = JSON.parse(await readFile(join(home, 'passwords.json'), 'utf8'))
    expect(Object.keys(after)).not.toContain(ui)
  }, 180_000)
})
