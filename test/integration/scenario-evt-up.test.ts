import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {BrokerRecord} from '../../src/broker/types.js'
import {runCli} from '../helpers/cli.js'

// A broker started by `evt up` (its own private node): scenarios run there and restart it in place.
let home: string
const env = () => ({EVT_HOME: home})
const record = async () => JSON.parse(await readFile(join(home, 'brokers', 'scn.json'), 'utf8')) as BrokerRecord

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-scenario-up-'))
  const up = await runCli(['up', '--runtime', 'local', '--name', 'scn', '--no-provision'], {
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
    const r = await runCli(['scenario', 'durability', '--name', 'scn', '--messages', '300', '--json'], {
      env: env(),
      timeoutMs: 90_000,
    })
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.broker.source).toBe('evt-up')
    expect(report.scenarios[0].status).toBe('passed')
    const after = await record()
    expect(after.local?.launcherPid).not.toBe(before.local?.launcherPid)
    // The broker is still there for the next command, found through the updated record.
    const status = await runCli(['status', '--name', 'scn', '--json'], {env: env()})
    expect(status.code, status.stderr).toBe(0)
  })

  it('topology with nothing provisioned falls back to the fixture topology', async () => {
    const r = await runCli(['scenario', 'topology', '--name', 'scn', '--json'], {env: env(), timeoutMs: 60_000})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).scenarios[0].notes[0]).toMatch(/fixture topology \(nothing provisioned/)
  })
})
