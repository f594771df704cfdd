import {existsSync, statSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import {LocalCluster} from '../../src/broker/cluster.js'
import type {ClusterBroker} from '../../src/broker/cluster-base.js'
import {ContainerCluster} from '../../src/broker/container-cluster.js'
import {
  LABEL_BROKER,
  LABEL_CLUSTER,
  listByLabels,
  listNetworksByLabels as networksLabelled,
} from '../../src/broker/docker-api.js'
import {startBroker} from '../../src/broker/index.js'
import {findRabbitmqBinDir} from '../../src/broker/local.js'
import {loadCatalogue} from '../../src/catalogue/catalogue.js'
import {canPartition} from '../../src/faults/partition.js'
import {publishEvents} from '../../src/publish/publisher.js'
import {loadBuiltinScenarios, selectScenarios} from '../../src/scenarios/load.js'
import {negativeRuns} from '../../src/scenarios/negatives.js'
import {runScenario, runScenarios} from '../../src/scenarios/runner.js'
import type {ScenarioDefinition, ScenarioResult} from '../../src/scenarios/types.js'
import {sharedBroker} from '../helpers/broker.js'
import {processesWithEnv} from '../helpers/processes.js'

/**
 * One 3-node cluster for the whole file (booting one costs ~10-30 s here): the library handle, the cluster
 * scenarios passing, and each failing when its promise is broken; then stop() leaves nothing. Local nodes by
 * default; containers on a private network with EVT_TEST_RUNTIME=container (CI's container leg, which runs the
 * scenarios and the partition negatives: the other negatives exercise the same steps, runtime-free).
 */
const onContainers = process.env.EVT_TEST_RUNTIME === 'container'
const runtime = onContainers ? 'container' : 'local'
const installed = onContainers || findRabbitmqBinDir() !== undefined
// Local partitions need packet filtering (root, iptables); a container is taken off its network instead.
const root = onContainers || (await canPartition())

describe.skipIf(!installed)(`a 3-node ${runtime} cluster`, () => {
  let cluster: ClusterBroker
  let builtins: ScenarioDefinition[]

  beforeAll(async () => {
    cluster = await startBroker({
      runtime,
      nodes: 3,
      name: 'itc',
      ...(onContainers ? {image: process.env.EVT_TEST_IMAGE} : {}),
    })
    builtins = await loadBuiltinScenarios()
  }, 240_000)
  afterAll(async () => {
    await cluster?.stop()
  })
  // A scenario that failed midway may leave a node down: each test starts from a whole cluster.
  beforeEach(async () => {
    if (!cluster || (cluster instanceof LocalCluster && !existsSync(cluster.facts.dataDir))) return
    if (cluster instanceof ContainerCluster && !(await cluster.node(1).exists())) return
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

  it.skipIf(onContainers)('forms one cluster of private nodes sharing one cookie and one private epmd', async () => {
    if (!(cluster instanceof LocalCluster)) throw new Error('a local cluster was asked for')
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

  it.skipIf(!onContainers)(
    'forms one cluster of containers on a private network, each reached on its own ports',
    async () => {
      if (!(cluster instanceof ContainerCluster)) throw new Error('a container cluster was asked for')
      const members = await cluster.membersStatus()
      expect(members.map((m) => [m.name, m.running])).toEqual([
        ['rabbit@n1', true],
        ['rabbit@n2', true],
        ['rabbit@n3', true],
      ])
      const labelled = await listByLabels({[LABEL_CLUSTER]: cluster.facts.run})
      expect(labelled).toHaveLength(3)
      expect(new Set(cluster.facts.nodes.map((n) => n.ports.amqp)).size).toBe(3)
      // Each node answers on its own published port, on loopback only.
      for (let i = 1; i <= 3; i++) expect(cluster.amqpAddress(i).host).toBe('127.0.0.1')
      expect((await cluster.nodesRunning()).every(Boolean)).toBe(true)
    },
  )

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
    expect(r.notes.join('\n')).toMatch(/new leader (evt-itc-n\d|rabbit@n\d)/)
  })

  it('classic-node-loss passes: the queue is unavailable while its node is down and comes back whole', async () => {
    const r = await run('classic-node-loss', {messages: 500})
    expect(failed(r), why(r)).toEqual([])
    expect(r.status).toBe('passed')
  })

  it.skipIf(!root)(
    'partition passes: the cut-off minority pauses, the majority goes on, 0 lost after healing',
    async () => {
      const r = await run('partition', {})
      expect(failed(r), why(r)).toEqual([])
      expect(r.status).toBe('passed')
    },
  )

  it.skipIf(!onContainers)(
    'rolling-restart passes: every container restarted in turn under load, 0 lost, the longest stall reported',
    async () => {
      const r = await run('rolling-restart', {})
      expect(failed(r), why(r)).toEqual([])
      expect(r.status).toBe('passed')
      expect(r.notes.join('\n')).toMatch(/longest publish stall \d/)
    },
    300_000,
  )

  /** Each negative case of a cluster scenario: exactly the checks it names fail (docs/scenarios.md). */
  const negativesCaught = async (name: string) => {
    const def = selectScenarios(builtins, [name])[0]
    const report = await runScenarios(negativeRuns([def]), {broker: cluster})
    expect(report.scenarios).toHaveLength(def.negatives.length)
    const wrong = report.scenarios.filter((r) => r.status !== 'passed').map((r) => `${r.name}: ${why(r)}`)
    expect(wrong, wrong.join('\n')).toEqual([])
    // The cluster is whole again after each (a negative that left a node down would fail the next).
    expect((await cluster.membersStatus()).map((m) => m.running)).toEqual([true, true, true])
  }

  it.skipIf(onContainers)(
    'quorum-failover negative cases: a classic queue (no new leader), strays, a 0 s promise',
    async () => {
      await negativesCaught('quorum-failover')
    },
    240_000,
  )

  it.skipIf(onContainers)(
    'classic-node-loss negative cases: a quorum queue stays available, transient messages, no restart',
    async () => {
      await negativesCaught('classic-node-loss')
    },
    240_000,
  )

  // Negative cases judge the scenarios, not the runtime: they run once, on local nodes (the positive runs above
  // show each fault works on containers too).
  it.skipIf(!root || onContainers)(
    'partition negative cases: classic queue, probe of the majority, no heal, 0 s promise',
    async () => {
      await negativesCaught('partition')
    },
    300_000,
  )

  it.skipIf(onContainers)(
    'rolling-restart negative cases: a classic queue loses or stalls, strays and a 0 s stall',
    async () => {
      // The passing run takes ~40-70 s here: `npm run bench` and docs/cluster.md run it; these show the verdicts.
      await negativesCaught('rolling-restart')
    },
    300_000,
  )

  it('cluster scenarios are skipped with the reason on a single node', async () => {
    const shared = sharedBroker()
    const single = await startBroker({runtime: 'external', url: shared.amqpUrl, managementUrl: shared.managementUrl})
    for (const name of ['quorum-failover', 'rolling-restart', 'partition', 'classic-node-loss']) {
      const r = await runScenario(selectScenarios(builtins, [name])[0], {broker: single})
      expect(r.status).toBe('skipped')
      expect(r.reason).toMatch(/needs a cluster/)
    }
  })

  it('leaderOf names a member, and stop() leaves no process, epmd, folder, container or network', async () => {
    const {connectAmqp} = await import('../../src/amqp/connect.js')
    const conn = await connectAmqp(cluster.amqpUrls[1])
    const ch = await conn.createChannel()
    await ch.assertQueue('leader.q', {durable: true, arguments: {'x-queue-type': 'quorum'}})
    await conn.close()
    const leader = await cluster.leaderOf('leader.q')
    expect([1, 2, 3]).toContain(leader)
    if (cluster instanceof ContainerCluster) {
      const label = {[LABEL_CLUSTER]: cluster.facts.run}
      await cluster.stop()
      expect(await listByLabels(label)).toEqual([])
      expect(await networksLabelled(label)).toEqual([])
      return
    }
    if (!(cluster instanceof LocalCluster)) throw new Error('a local cluster was asked for')
    const dir = cluster.facts.dataDir
    const tag = cluster.facts.nodes[0].nodeName.replace(/-n1-.*/, '-')
    await cluster.stop()
    expect(processesWithEnv(`RABBITMQ_NODENAME=${tag}`)).toEqual([])
    expect(existsSync(dir)).toBe(false)
  })
})

describe.skipIf(!onContainers)('a container cluster that does not start', () => {
  it('a member not ready by the deadline stops the others: exit 3, and no container or network is left', async () => {
    const err = await startBroker({
      runtime: 'container',
      nodes: 3,
      name: 'itc-late',
      image: process.env.EVT_TEST_IMAGE,
      timeoutMs: 1000,
    })
      .then(async (c) => {
        await c.stop()
        return undefined
      })
      .catch((e: {exitCode?: number; message: string}) => e)
    expect(err?.exitCode, err?.message).toBe(3)
    expect(await listByLabels({[LABEL_BROKER]: 'itc-late'})).toEqual([])
    expect(await networksLabelled({[LABEL_BROKER]: 'itc-late'})).toEqual([])
  }, 120_000)
})
