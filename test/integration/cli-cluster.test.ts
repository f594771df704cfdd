import {existsSync} from 'node:fs'
import {appendFile, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {findRabbitmqBinDir} from '../../src/broker/local.js'
import {runCli} from '../helpers/cli.js'
import {processesWithEnv} from '../helpers/processes.js'

/**
 * `evt up --nodes 3` through the CLI: stopped with --keep-data it resumes on its data; a resume that fails
 * leaves every node stopped (none the attempt had started still running) and says so in the record.
 */
let home: string
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-clic-'))
})
afterAll(async () => {
  await runCli(['down', '--name', 'kc'], {env: {EVT_HOME: home}})
  await rm(home, {recursive: true, force: true})
})

interface ClusterRecord {
  state?: string
  cluster: {dataDir: string; epmdMarker: string; nodes: {nodeName: string; dataDir: string}[]}
}

describe.skipIf(findRabbitmqBinDir() === undefined)('evt up --nodes 3, down --keep-data, up again', () => {
  it('resumes on its data; a failed resume stops every node and records it stopped; down removes it all', async () => {
    const env = {EVT_HOME: home}
    // Three nodes booting on a loaded 2-core runner can take minutes.
    const slow = {env, timeoutMs: 240_000}
    const up = await runCli(['up', '--runtime', 'local', '--nodes', '3', '--name', 'kc', '--json'], slow)
    expect(up.code, up.stdout + up.stderr).toBe(0)
    const record = async () => JSON.parse(await readFile(join(home, 'brokers', 'kc.json'), 'utf8')) as ClusterRecord
    const {cluster} = await record()
    const names = [...cluster.nodes.map((n) => n.nodeName), cluster.epmdMarker]
    const left = () => names.flatMap((n) => processesWithEnv(`RABBITMQ_NODENAME=${n}`))
    expect(left().length).toBeGreaterThan(3)

    const kept = await runCli(['down', '--name', 'kc', '--keep-data', '--json'], {env})
    expect(kept.code, kept.stdout + kept.stderr).toBe(0)
    expect(JSON.parse(kept.stdout)).toMatchObject({stopped: true, keptData: true})
    expect(left()).toEqual([])

    const resumed = await runCli(['up', '--name', 'kc', '--json'], slow)
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0)
    expect(JSON.parse(resumed.stdout)).toMatchObject({status: 'resumed'})
    // Provisioned on the first up: the topology is still there after the resume.
    const status = await runCli(['status', '--name', 'kc', '--json'], {env})
    expect(status.code, status.stdout + status.stderr).toBe(0)
    expect(JSON.stringify(JSON.parse(status.stdout))).toContain('ecommerce')

    expect((await runCli(['down', '--name', 'kc', '--keep-data'], {env})).code).toBe(0)
    // Node 2 cannot start any more: its config has a line RabbitMQ rejects. Nodes 1 and 3 may wait for it (a node
    // that did not stop last waits for its peers' tables): its failure must stop them, not their timeouts.
    await appendFile(join(cluster.nodes[1].dataDir, 'rabbitmq.conf'), 'no_such_setting = 1\n')
    const failed = await runCli(['up', '--name', 'kc', '--json'], slow)
    expect(failed.code, failed.stdout + failed.stderr).toBe(3)
    expect(JSON.parse(failed.stdout).error.message).toMatch(/node/)
    // Nodes 1 and 3 did start in that attempt: they are stopped again, not left running.
    expect(left()).toEqual([])
    expect((await record()).state).toBe('stopped')

    const down = await runCli(['down', '--name', 'kc'], {env})
    expect(down.code, down.stdout + down.stderr).toBe(0)
    expect(left()).toEqual([])
    expect(existsSync(cluster.dataDir)).toBe(false)
    expect(existsSync(join(home, 'brokers', 'kc.json'))).toBe(false)
  }, 900_000)
})
