import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {BrokerRecord} from '../../src/broker/types.js'
import {ManagementClient} from '../../src/management/client.js'
import {waitFor} from '../../src/util/time.js'
import {runCli, spawnCli} from '../helpers/cli.js'
import {runtimeArgs, runtimeEnv, TEST_RUNTIME} from '../helpers/runtime.js'

// A broker started by `evt up` (its own private node): scenarios run there and restart it in place.
let home: string
const env = () => ({EVT_HOME: home, ...runtimeEnv()})
const record = async () => JSON.parse(await readFile(join(home, 'brokers', 'scn.json'), 'utf8')) as BrokerRecord

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-scenario-up-'))
  const up = await runCli(['up', ...runtimeArgs(), '--name', 'scn', '--no-provision'], {
    env: env(),
    timeoutMs: 90_000,
  })
  if (up.code !== 0) throw new Error(`evt up failed: ${up.stderr}`)
})

afterAll(async () => {
  await runCli(['down', '--name', 'scn'], {env: env(), timeoutMs: 60_000})
  await rm(home, {recursive: true, force: true})
})

describe('evt scenario on the broker `evt up` recorded', () => {
  it('restarts it for durability and writes the new pid back to the record', async () => {
    const before = await record()
    // restart=node: the node's processes are replaced (the default restarts the application in the same VM).
    const r = await runCli(
      ['scenario', 'durability', '--name', 'scn', '--messages', '300', '--param', 'restart=node', '--json'],
      {env: env(), timeoutMs: 90_000},
    )
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.broker.source).toBe('evt-up')
    expect(report.scenarios[0].status).toBe('passed')
    const after = await record()
    if (TEST_RUNTIME === 'local') expect(after.local?.launcherPid).not.toBe(before.local?.launcherPid)
    // A container restarts in place: same container, same ports.
    else expect(after.container?.id).toBe(before.container?.id)
    // The broker is still there for the next command, found through the updated record.
    const status = await runCli(['status', '--name', 'scn', '--json'], {env: env()})
    expect(status.code, status.stdout + status.stderr).toBe(0)
  })

  it('topology with nothing provisioned falls back to the fixture topology', async () => {
    const r = await runCli(['scenario', 'topology', '--name', 'scn', '--json'], {env: env(), timeoutMs: 60_000})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).scenarios[0].notes[0]).toMatch(/fixture topology \(nothing provisioned/)
  })
  it('runs the same scenarios on several brokers (--name a --name b) with one report and one JUnit file', async () => {
    const up = await runCli(['up', ...runtimeArgs(), '--name', 'scn2', '--no-provision'], {
      env: env(),
      timeoutMs: 90_000,
    })
    expect(up.code, up.stdout + up.stderr).toBe(0)
    try {
      const junit = join(home, 'two.xml')
      const r = await runCli(
        ['scenario', 'fanout', 'confirms', '--name', 'scn', '--name', 'scn2', '--json', '--junit', junit],
        {env: env(), timeoutMs: 120_000},
      )
      expect(r.code, r.stderr + failedChecks(r.stdout)).toBe(0)
      const report = JSON.parse(r.stdout)
      expect(report.brokers.map((b: {name: string}) => b.name)).toEqual(['scn', 'scn2'])
      const ran = report.scenarios.map(
        (s: {name: string; broker: string; status: string}) => `${s.name}@${s.broker}:${s.status}`,
      )
      expect(ran.sort()).toEqual([
        'confirms@scn2:passed',
        'confirms@scn:passed',
        'fanout@scn2:passed',
        'fanout@scn:passed',
      ])
      expect(report.totals.scenarios).toBe(4)
      const xml = await readFile(junit, 'utf8')
      expect(xml).toContain('name="fanout @ scn2"')
      expect(xml).toContain('classname="evt.scenario.scn.confirms"')
      // A name that is not recorded stops the run before anything runs on the others.
      const typo = await runCli(['scenario', 'fanout', '--name', 'scn', '--name', 'scnx'], {env: env()})
      expect(typo.code).toBe(3)
      expect(typo.stderr).toMatch(/no broker "scnx" is recorded/)
    } finally {
      await runCli(['down', '--name', 'scn2'], {env: env(), timeoutMs: 60_000})
    }
  })
  it('a run that restarts the broker holds it alone: another run waits (saying for whom) or, with --wait-seconds 0, exits 3', async () => {
    const leases = join(home, 'locks', 'scn.lease')
    const durability = spawnCli(['scenario', 'durability', '--name', 'scn', '--messages', '300', '--json'], {
      env: env(),
    })
    let durabilityOut = ''
    durability.stdout.on('data', (d) => (durabilityOut += d))
    durability.stderr.on('data', (d) => (durabilityOut += d))
    const durabilityDone = new Promise<number | null>((resolve) => durability.on('close', resolve))
    // It holds the lease once a holder file is there.
    const held = await waitFor(async () => (await readdir(leases).catch(() => [])).some((f) => f.endsWith('.json')), {
      timeoutMs: 30_000,
      intervalMs: 20,
    })
    expect(held).toBe(true)
    const impatient = await runCli(['scenario', 'fanout', '--name', 'scn', '--wait-seconds', '0'], {env: env()})
    expect(impatient.code).toBe(3)
    expect(impatient.stderr).toMatch(/broker "scn" is busy: pid \d+ \(evt scenario durability, exclusive/)
    // `evt down` does not pull the broker from under the run either (--force would).
    const down = await runCli(['down', '--name', 'scn', '--wait-seconds', '0'], {env: env()})
    expect(down.code).toBe(3)
    expect(down.stderr).toMatch(/broker "scn" is busy: pid \d+ \(evt scenario durability/)
    const patient = await runCli(['scenario', 'fanout', '--name', 'scn', '--json'], {env: env(), timeoutMs: 120_000})
    expect(await durabilityDone, durabilityOut).toBe(0)
    expect(patient.code, patient.stdout + patient.stderr).toBe(0)
    expect(patient.stderr).toMatch(/waiting for broker "scn": pid \d+ \(evt scenario durability, exclusive/)
    expect(JSON.parse(patient.stdout).scenarios[0].status).toBe('passed')
    expect(await readdir(leases)).toEqual([])
  })

  it('Ctrl-C during the restart lets the restart finish: the broker is up, the scenario vhost gone, exit 130', async () => {
    const child = spawnCli(['scenario', 'durability', '--name', 'scn', '--messages', '300'], {env: env()})
    let stderr = ''
    const restarting = new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d
        if (stderr.includes('restarting the broker')) resolve()
      })
    })
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    await Promise.race([restarting, closed])
    expect(stderr).toContain('restarting the broker')
    child.kill('SIGINT')
    expect(await closed).toBe(130)
    const status = await runCli(['status', '--name', 'scn', '--json'], {env: env()})
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const {managementUrl} = await record()
    const api = new ManagementClient(managementUrl)
    const vhosts = await api.get<{name: string}[]>('/vhosts')
    expect(vhosts.map((v) => v.name).filter((n) => n.startsWith('evt-scn-'))).toEqual([])
  })
})

/** What failed, from a `--json` report: enough to tell a broker fault from a timing assumption. */
function failedChecks(stdout: string): string {
  try {
    const report = JSON.parse(stdout) as {
      scenarios: {
        name: string
        status: string
        reason?: string
        checks: {check: string; status: string; observed?: unknown}[]
      }[]
    }
    return report.scenarios
      .flatMap((s) => [
        ...(s.reason ? [`${s.name}: ${s.reason}`] : []),
        ...s.checks
          .filter((c) => c.status === 'fail')
          .map((c) => `${s.name}: ${c.check} (observed ${JSON.stringify(c.observed)})`),
      ])
      .join('\n')
  } catch {
    return stdout.slice(0, 500)
  }
}
