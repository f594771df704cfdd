import {describe, expect, it} from 'vitest'
import {clusterConfigLines, validateNodeCount} from '../../../src/broker/cluster.js'
import {nodeEnv} from '../../../src/broker/local.js'
import type {LocalNodeFacts} from '../../../src/broker/types.js'
import {Ledger, StallClock} from '../../../src/faults/ledger.js'
import {parseNodeTarget} from '../../../src/faults/node.js'
import {partitionRules} from '../../../src/faults/partition.js'
import {emptyDefinitions} from '../../../src/topology/definitions.js'

describe('Ledger', () => {
  it('counts outcomes and passes when every confirmed id is delivered', () => {
    const l = new Ledger()
    for (const id of ['a', 'b', 'c', 'd']) l.publish(id)
    l.settle('a', 'confirmed')
    l.settle('b', 'confirmed')
    l.settle('c', 'nacked')
    l.settle('d', 'unknown')
    l.deliver('a')
    l.deliver('b')
    const v = l.verdict()
    expect(v).toMatchObject({published: 4, confirmed: 2, nacked: 1, unknown: 1, lost: 0, unexpected: 0, duplicates: 0})
  })

  it('finds lost (confirmed, never delivered) and unexpected (delivered, never published)', () => {
    const l = new Ledger()
    l.publish('a')
    l.publish('b')
    l.settle('a', 'confirmed')
    l.settle('b', 'confirmed')
    l.deliver('a')
    l.deliver('ghost')
    const v = l.verdict()
    expect(v.lost).toBe(1)
    expect(v.lostSample).toEqual(['b'])
    expect(v.unexpected).toBe(1)
    expect(v.unexpectedSample).toEqual(['ghost'])
  })

  it('reports duplicates and recovered messages without counting them as lost', () => {
    const l = new Ledger()
    l.publish('a')
    l.publish('b')
    l.settle('a', 'confirmed')
    l.settle('b', 'unknown')
    l.deliver('a')
    l.deliver('a')
    l.deliver('b')
    const v = l.verdict()
    expect(v).toMatchObject({lost: 0, duplicates: 1, recovered: 1, deliveries: 3, delivered: 2})
  })

  it('never downgrades a confirmed outcome, and makes pending publishes unknown when abandoned', () => {
    const l = new Ledger()
    l.publish('a')
    l.publish('b')
    l.settle('a', 'confirmed')
    l.settle('a', 'unknown')
    expect(l.abandonPending()).toBe(1)
    expect(l.verdict()).toMatchObject({confirmed: 1, unknown: 1})
    expect(l.outstanding()).toBe(2)
    expect(l.confirmedOutstanding()).toBe(1)
    l.deliver('a')
    expect(l.confirmedOutstanding()).toBe(0)
    expect(() => l.publish('a')).toThrow(/twice/)
  })
})

describe('StallClock', () => {
  it('measures the longest gap between confirms and the resume time after a fault', () => {
    let now = 0
    const c = new StallClock(() => now)
    c.start()
    now = 100
    c.confirmed(90)
    now = 200
    const mark = c.mark()
    now = 300
    c.confirmed(150) // published before the fault: does not count as resumed
    expect(c.resumeAfter(mark)).toBeUndefined()
    now = 1800
    c.confirmed(250)
    expect(c.resumeAfter(mark)).toBe(1600)
    expect(c.longest).toBe(1500)
  })
})

describe('cluster configuration', () => {
  it('accepts 1 and odd sizes from 3, refuses even sizes', () => {
    expect(validateNodeCount(1)).toBe(1)
    expect(validateNodeCount(3)).toBe(3)
    expect(validateNodeCount(5)).toBe(5)
    for (const n of [0, 2, 4, 11, 2.5]) expect(() => validateNodeCount(n)).toThrow(/not a cluster size/)
  })

  it('node 1 forms the cluster, the others discover node 1; all pause in a minority', () => {
    const names = ['a@localhost', 'b@localhost', 'c@localhost']
    expect(clusterConfigLines(0, names)).toEqual(['cluster_partition_handling = pause_minority'])
    const second = clusterConfigLines(1, names)
    expect(second).toContain('cluster_formation.peer_discovery_backend = classic_config')
    expect(second).toContain('cluster_formation.classic_config.nodes.1 = a@localhost')
  })

  const facts = (i: number): LocalNodeFacts => ({
    nodeName: `n${i}@localhost`,
    dataDir: `/tmp/x/n${i}`,
    launcherPid: 0,
    ports: {amqp: 1000 + i, management: 2000 + i, dist: 3000 + i, epmd: 4000},
    ownsDataDir: false,
    epmdMarker: 'm@localhost',
    netTicktime: 5,
    distSourceIp: `127.0.0.${i + 1}`,
  })

  it('members run with net_ticktime 5 and their own distribution source address', () => {
    const env = nodeEnv(facts(2))
    expect(env.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS).toContain('-kernel net_ticktime 5')
    expect(env.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS).toContain('inet_dist_connect_options [{ip,{127,0,0,3}}]')
    expect(env.ERL_EPMD_PORT).toBe('4000')
  })

  it('a partition drops exactly the distribution traffic between the node and each peer, both ways', () => {
    const rules = partitionRules(facts(1), [facts(2), facts(3)])
    expect(rules).toHaveLength(8)
    const text = rules.map((r) => r.join(' '))
    expect(text).toContain(
      '-p tcp -s 127.0.0.3 -d 127.0.0.1 --dport 3001 -m comment --comment evt-partition:n1@localhost -j DROP',
    )
    expect(text).toContain(
      '-p tcp -s 127.0.0.2 -d 127.0.0.1 --dport 3002 -m comment --comment evt-partition:n1@localhost -j DROP',
    )
    // AMQP and management ports are never touched.
    expect(text.join(' ')).not.toMatch(/100\d|200\d/)
  })

  it('parses node targets', () => {
    expect(parseNodeTarget('2')).toEqual({index: 2})
    expect(parseNodeTarget('n3')).toEqual({index: 3})
    expect(parseNodeTarget('leader-of:orders', 'shop')).toEqual({leaderOf: 'orders', vhost: 'shop'})
    expect(() => parseNodeTarget('first')).toThrow(/names no node/)
  })
})

describe('--queue-type quorum', () => {
  it('turns durable work queues into quorum queues with a delivery limit and at-least-once dead-lettering', async () => {
    const {toQuorumQueues} = await import('../../../src/topology/quorum.js')
    const {queues: _, ...base} = emptyDefinitions()
    const q = (name: string, extra: Record<string, unknown> = {}, args: Record<string, unknown> = {}) => ({
      name,
      vhost: 'shop',
      durable: true,
      auto_delete: false,
      arguments: args,
      ...extra,
    })
    const r = toQuorumQueues({
      ...base,
      queues: [
        q('orders', {}, {'x-dead-letter-exchange': 'dlx', 'x-queue-mode': 'lazy'}),
        q('plain'),
        q('temp', {durable: false}),
        q('prio', {}, {'x-max-priority': 5}),
      ],
    } as never)
    const byName = Object.fromEntries(r.definitions.queues.map((x) => [x.name, x.arguments]))
    expect(byName.orders).toEqual({
      'x-dead-letter-exchange': 'dlx',
      'x-queue-type': 'quorum',
      'x-delivery-limit': 20,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    })
    expect(byName.plain).toEqual({'x-queue-type': 'quorum', 'x-delivery-limit': 20})
    expect(r.rewritten).toEqual(['shop/orders', 'shop/plain'])
    expect(Object.keys(r.kept)).toEqual(['shop/temp', 'shop/prio'])
    expect(byName.temp).toEqual({})
  })
})
