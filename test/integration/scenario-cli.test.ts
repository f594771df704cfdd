// biome-ignore-all lint/suspicious/noTemplateCurlyInString: scenario files use ${...} templates of their own
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {sharedBroker} from '../helpers/broker.js'
import {runCli} from '../helpers/cli.js'

let dir: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evt-scenario-cli-'))
  const {amqpUrl, managementUrl} = sharedBroker()
  env = {RABBITMQ_URL: amqpUrl, RABBITMQ_MANAGEMENT_URL: managementUrl, EVT_HOME: join(dir, 'home')}
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('evt scenario (CLI)', () => {
  it('--list --json names every built-in with what it proves and its typical seconds', async () => {
    const r = await runCli(['scenario', '--list', '--json'], {env})
    expect(r.code).toBe(0)
    const list = JSON.parse(r.stdout).scenarios as {name: string; summary: string; typicalSeconds: number}[]
    expect(list.map((s) => s.name)).toContain('durability')
    expect(list.every((s) => s.summary && s.typicalSeconds > 0)).toBe(true)
    const workQueue = (JSON.parse(r.stdout).scenarios as {name: string; checks: string[]}[]).find(
      (s) => s.name === 'work-queue',
    )
    expect(workQueue?.checks).toContain('the slow worker takes fewer than half of the tasks (fair dispatch)')
  })

  it('an unwritable --junit path exits 2 before anything runs', async () => {
    const r = await runCli(['scenario', 'routing', '--junit', join(dir, 'no-such-folder', 'r.xml')], {env})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--junit .*r\.xml cannot be written \(its folder does not exist or is read-only\)/)
    expect(r.stdout).not.toMatch(/routing/)
  })

  it('--fail-on-skip: a skipped scenario fails the run (exit 1), and JUnit still says why', async () => {
    const junit = join(dir, 'skip.xml')
    const r = await runCli(['scenario', 'durability', '--fail-on-skip', '--junit', junit], {env})
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/SKIP durability: needs to restart the broker/)
    expect(await readFile(junit, 'utf8')).toMatch(/<skipped/)
  })

  it("sweeps the vhosts a killed run left behind, and leaves a live run's alone", async () => {
    const {ManagementClient} = await import('../../src/management/client.js')
    const {scenarioVhost} = await import('../../src/scenarios/vhosts.js')
    const api = new ManagementClient(sharedBroker().managementUrl)
    // pid 2^22+1 is above Linux's pid_max: that process cannot be running.
    const leftover = scenarioVhost('routing', 4_194_305)
    const live = scenarioVhost('routing', process.pid)
    await api.createVhost(leftover)
    await api.createVhost(live)
    try {
      const r = await runCli(['scenario', 'routing'], {env})
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(await api.vhostExists(leftover)).toBe(false)
      expect(await api.vhostExists(live)).toBe(true)
    } finally {
      await api.deleteVhost(leftover).catch(() => {})
      await api.deleteVhost(live).catch(() => {})
    }
  })

  it('passing scenarios: exit 0, --json report and valid JUnit', async () => {
    const junit = join(dir, 'report.xml')
    const r = await runCli(['scenario', 'routing', 'rpc', '--json', '--junit', junit, '--param', 'requests=10'], {env})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.totals).toMatchObject({scenarios: 2, passed: 2, failed: 0})
    expect(report.broker.source).toBe('url')
    expect(report.broker.url).not.toContain(sharedBroker().amqpUrl.split('@')[0].split(':')[2])
    const xml = await readFile(junit, 'utf8')
    expect(xml.match(/<testsuite /g)).toHaveLength(2)
    expect(xml).not.toContain('<failure')
  })

  it('a failing check: exit 1, the table shows expected and observed, and the verdict line', async () => {
    const r = await runCli(['scenario', 'routing', '--param', 'starPattern=customers.#'], {env})
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/topic customers\.\* matches one word after customers.*FAIL/)
    expect(r.stdout).toMatch(/FAIL routing: 1 of 12 checks failed/)
    expect(r.stdout).toMatch(/1 scenario: 0 passed, 1 failed/)
  })

  it('durability on an external broker is skipped with the reason, never passed', async () => {
    const r = await runCli(['scenario', 'durability', '--json'], {env})
    expect(r.code).toBe(0)
    const s = JSON.parse(r.stdout).scenarios[0]
    expect(s.status).toBe('skipped')
    expect(s.reason).toMatch(/needs to restart the broker/)
  })

  it('load-balanced fanout prints deliveries per consumer side by side', async () => {
    const r = await runCli(['scenario', 'load-balanced', 'fanout', '--consumers', '3', '--messages', '300'], {env})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Deliveries per consumer:/)
    expect(r.stdout).toMatch(/│\s+│ load-balanced │ fanout │/)
    expect(r.stdout).toMatch(/total\s+│\s+300 │\s+900 │/)
  })

  it("runs a user's own scenario file", async () => {
    const file = join(dir, 'mine.yaml')
    await writeFile(
      file,
      [
        'name: my-orders',
        'summary: an orders queue keeps what we publish',
        'params: {messages: 25}',
        'steps:',
        '  - declare:',
        '      queues: [{name: orders}]',
        '  - publish: {routingKey: orders, count: "${params.messages}", confirm: true}',
        '    as: sent',
        '  - check-queue: {queue: orders}',
        '    as: depth',
        '  - expect:',
        '      - {check: all confirmed, observed: "${sent.acked}", equals: "${params.messages}"}',
        '      - {check: all queued, observed: "${depth.messages}", equals: "${params.messages}"}',
        '',
      ].join('\n'),
    )
    const r = await runCli(['scenario', '--file', file, '--messages', '40', '--json'], {env})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const s = JSON.parse(r.stdout).scenarios[0]
    expect(s).toMatchObject({name: 'my-orders', status: 'passed', params: {messages: 40}})
    expect(s.checks.map((c: {observed: string}) => c.observed)).toEqual(['40', '40'])
  })

  it('bad usage exits 2: an unknown name (with suggestions), a bad file, a bad --param', async () => {
    const unknown = await runCli(['scenario', 'fanuot'], {env})
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown scenario "fanuot". Did you mean fanout/)
    const file = join(dir, 'bad.yaml')
    await writeFile(file, 'name: bad\nsummary: bad\nsteps:\n  - publish:\n      exchnage: x\n')
    const bad = await runCli(['scenario', '--file', file], {env})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(`${file}:5: steps[0].publish.exchnage: unknown key`)
    const param = await runCli(['scenario', 'routing', '--param', 'nope'], {env})
    expect(param.code).toBe(2)
    const none = await runCli(['scenario'], {env})
    expect(none.code).toBe(2)
  })

  it('no broker at --url exits 3', async () => {
    const r = await runCli(['scenario', 'routing', '--url', 'amqp://u:secret@127.0.0.1:1'], {
      env: {EVT_HOME: env.EVT_HOME},
      cwd: dir,
    })
    expect(r.code).toBe(3)
    expect(r.stderr).not.toContain('secret')
    expect(existsSync(join(dir, '.evt'))).toBe(false)
  })
})
