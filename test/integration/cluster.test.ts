import {existsSync, statSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import type {LocalCluster} from '../../src/broker/cluster.js'
import {startBroker} from '../../src/broker/index.js'
import {findRabbitmqBinDir} from '../../src/broker/local.js'
import {loadCatalogue} from '../../src/catalogue/catalogue.js'
import {canPartition} from '../../src/faults/partition.js'
import {publishEvents} from '../../src/publish/publisher.js'
import {loadBuiltinScenarios, selectScenarios} from '../../src/scenarios/load.js'
import {runScenario} from '../../src/scenarios/runner.js'
import type {ScenarioDefinition, ScenarioResult} from '../../src/scenarios/types.js'
import {sharedBroker} from '../helpers/broker.js'
import {processesWithEnv} from '../helpers/processes.js'

/**
 * One 3-node local cluster for the whole file (booting one costs ~10-30 s here): the library handle, the
 * cluster scenarios passing, and each failing when its promise is broken; then stop() leaves nothing.
 */
const installed = findRabbitmqBinDir() !== undefined
const root = await canPartition()

describe.skipIf(!installed)('a 3-node local cluster', () => {
  let cluster: LocalCluster
  let builtins: ScenarioDefinition[]

  beforeAll(async () => {
    cluster = await startBroker({runtime: 'local', nodes: 3, name: 'itc'})
    builtins = await loadBuiltinScenarios()
  }, 180_000)
  afterAll(async () => {
    await cluster?.stop()
  })
  // A scenario that failed midway may leave a node down: each test starts from a whole cluster.
  beforeEach(async () => {
    if (!cluster || !existsSync(cluster.facts.dataDir)) return
    const up = await cluster.nodesRunning()
    for (const [i, running] of up.entries()) if (!running) await cluster.startNode(i + 1)
    await cluster.launchFormed(60_000)
  }, 120_000)

  const run = (name: string, overrides: Record<string, string | number | boolean> = {}): Promise<ScenarioResult> =>
    runScenario(selectScenarios(builtins, [name])[0], {broker: cluster, overrides})
  const failed = (r: ScenarioResult) => r.checks.filter((c) => c.status === 'fail').map((c) => c.check)
  /** What a failure message shows: the verdict, the failed checks with what was observed, the notes. */
  const why = (r: ScenarioResult) =>
    JSON.stringify({
      status: r.status,
      reason: r.reason,
      failed: r.checks.filter((c) => c.status === 'fail').map((c) => `${c.check}: ${c.observed}`),
      notes: r.notes,
    })

  it('forms one cluster of private nodes sharing one cookie and one private epmd', async () => {
    expect(cluster.size).toBe(3)
    const members = await cluster.membersStatus()
    expect(members.map((m) => m.running)).toEqual([true, true, true])
    const names = new Set(cluster.facts.nodes.map((n) => n.nodeName))
    expect(names.size).toBe(3)
    const cookies = await Promise.all(
      cluster.facts.nodes.map((n) => readFile(join(n.dataDir, '.erlang.cookie'), 'utf8')),
    )
    expect(new Set(cookies).size).toBe(1)
    for (const n of cluster.facts.nodes) {
      expect(statSync(join(n.dataDir, '.erlang.cookie')).mode & 0o777).toBe(0o600)
      expect(n.ports.epmd).toBe(cluster.facts.epmdPort)
      expect(n.ports.epmd).not.toBe(4369)
    }
    expect(cluster.amqpUrls).toHaveLength(3)
  })

  it('a publish whose node is down goes through another node of the cluster (and fails without them)', async () => {
    await cluster.killNode(1)
    const conn = await connectAmqp(cluster.amqpUrls[1])
    try {
      const ch = await conn.createChannel()
      await ch.assertQueue('itc-failover', {durable: true, arguments: {'x-queue-type': 'quorum'}})
      await ch.purgeQueue('itc-failover')
      const type = {...loadCatalogue().resolve('order.created')[0], exchange: '', routingKey: 'itc-failover'}
      const options = {url: cluster.amqpUrls[0], vhost: '/', types: [type], count: 50, reconnectTimeoutMs: 2000}
      await expect(publishEvents(options)).rejects.toThrow(/nothing is listening/)
      const summary = await publishEvents({...options, otherNodeUrls: cluster.amqpUrls.slice(1)})
      expect(summary.totals.confirmed).toBe(50)
      expect(summary.ok).toBe(true)
      expect((await ch.checkQueue('itc-failover')).messageCount).toBe(50)
      await ch.deleteQueue('itc-failover')
    } finally {
      await conn.close().catch(() => undefined)
    }
  })

  it('quorum-failover passes: the leader node is killed, a new leader is named, nothing confirmed is lost', async () => {
    const r = await run('quorum-failover', {})
    expect(failed(r), why(r)).toEqual([])
    expect(r.status).toBe('passed')
    expect(r.notes.join('\n')).toMatch(/new leader evt-itc-n\d/)
  })

  it('quorum-failover fails with a classic queue (no replica: no new leader, confirmed messages lost)', async () => {
    const r = await run('quorum-failover', {queueType: 'classic', drainMs: 3000})
    expect(r.status, why(r)).toBe('failed')
    expect(failed(r)).toContain('a new leader was elected on another node')
  })

  it('classic-node-loss passes: the queue is unavailable while its node is down and comes back whole', async () => {
    const r = await run('classic-node-loss', {messages: 500})
    expect(failed(r), why(r)).toEqual([])
    expect(r.status).toBe('passed')
  })

  it('classic-node-loss fails with a quorum queue (it stays available: the contrast)', async () => {
    const r = await run('classic-node-loss', {messages: 500, queueType: 'quorum'})
    expect(r.status, why(r)).toBe('failed')
    expect(failed(r)).toContain('while its node is down the queue is unavailable through the other nodes')
  })

  it.skipIf(!root)(
    'partition passes: the cut-off minority pauses, the majority goes on, 0 lost after healing',
    async () => {
      const r = await run('partition', {})
      expect(failed(r), why(r)).toEqual([])
      expect(r.status).toBe('passed')
    },
  )

  it.skipIf(!root)('partition fails with a classic queue on the cut-off node', async () => {
    const r = await run('partition', {queueType: 'classic', drainMs: 3000})
    expect(r.status, why(r)).toBe('failed')
    expect(failed(r)).toContain('the majority elected a new leader')
  })

  it('rolling-restart fails with a classic queue (its node restarts: confirmed messages are lost or stall)', async () => {
    // The passing run takes ~40-70 s here: `npm run bench` and docs/cluster.md run it; this shows the verdict.
    const r = await run('rolling-restart', {queueType: 'classic', drainMs: 3000})
    expect(r.status, why(r)).toBe('failed')
    expect(failed(r).length).toBeGreaterThan(0)
  }, 180_000)

  it('cluster scenarios are skipped with the reason on a single node', async () => {
    const shared = sharedBroker()
    const single = await startBroker({runtime: 'external', url: shared.amqpUrl, managementUrl: shared.managementUrl})
    for (const name of ['quorum-failover', 'rolling-restart', 'partition', 'classic-node-loss']) {
      const r = await runScenario(selectScenarios(builtins, [name])[0], {broker: single})
      expect(r.status).toBe('skipped')
      expect(r.reason).toMatch(/needs a cluster/)
    }
  })

  it('leaderOf names a member, and stop() leaves no process, epmd or folder', async () => {
    const {connectAmqp} = await import('../../src/amqp/connect.js')
    const conn = await connectAmqp(cluster.amqpUrls[1])
    const ch = await conn.createChannel()
    await ch.assertQueue('leader.q', {durable: true, arguments: {'x-queue-type': 'quorum'}})
    await conn.close()
    const leader = await cluster.leaderOf('leader.q')
    expect([1, 2, 3]).toContain(leader)
    const dir = cluster.facts.dataDir
    const tag = cluster.facts.nodes[0].nodeName.replace(/-n1-.*/, '-')
    await cluster.stop()
    expect(processesWithEnv(`RABBITMQ_NODENAME=${tag}`)).toEqual([])
    expect(existsSync(dir)).toBe(false)
  })
})
