import {existsSync} from 'node:fs'
import {createServer} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import {startBroker} from '../../src/broker/index.js'
import {type LocalBroker, launchFresh, prepareLocal} from '../../src/broker/local.js'
import {amqpAnswers} from '../../src/broker/probe.js'
import {portClosed, processesWithEnv} from '../helpers/processes.js'

/**
 * The local runtime's promises, on a node of its own (restart and kill -9 would disturb the shared one):
 * a durable queue's persistent messages survive a restart and a kill -9; stop leaves nothing behind.
 */
describe('local runtime lifecycle', () => {
  let broker: LocalBroker

  beforeAll(async () => {
    broker = (await startBroker({runtime: 'local', name: 'lifecycle'})) as LocalBroker
  })
  afterAll(async () => {
    await broker?.stop()
  })

  async function depth(queue: string): Promise<number | undefined> {
    const conn = await connectAmqp(broker.amqpUrl)
    try {
      const ch = await conn.createChannel()
      ch.on('error', () => undefined)
      return (await ch.checkQueue(queue)).messageCount
    } catch {
      return undefined
    } finally {
      await conn.close().catch(() => undefined)
    }
  }

  it('starts isolated on loopback with its own node name and answers AMQP and management', async () => {
    expect(broker.runtime).toBe('local')
    expect(broker.facts.nodeName).toMatch(/^evt-lifecycle-[0-9a-f]{6}@localhost$/)
    expect(broker.amqpUrl).toContain('127.0.0.1')
    expect(await amqpAnswers('127.0.0.1', broker.facts.ports.amqp)).toBe(true)
    expect(broker.facts.ports.amqp).not.toBe(5672)
  })

  it('does an AMQP round trip', async () => {
    const conn = await connectAmqp(broker.amqpUrl)
    const ch = await conn.createChannel()
    const {queue} = await ch.assertQueue('', {exclusive: true})
    ch.sendToQueue(queue, Buffer.from('hello'))
    const got = await new Promise<string>((resolve) => {
      ch.consume(queue, (m) => m && resolve(m.content.toString()), {noAck: true})
    })
    expect(got).toBe('hello')
    await conn.close()
  })

  it('keeps a durable queue and its persistent messages across a restart, and drops transient state', async () => {
    const conn = await connectAmqp(broker.amqpUrl)
    const ch = await conn.createConfirmChannel()
    await ch.assertQueue('durable.q', {durable: true})
    await ch.assertQueue('transient.q', {durable: false})
    for (let i = 0; i < 300; i++) ch.sendToQueue('durable.q', Buffer.from(`p${i}`), {persistent: true})
    for (let i = 0; i < 50; i++) ch.sendToQueue('durable.q', Buffer.from(`t${i}`), {persistent: false})
    for (let i = 0; i < 10; i++) ch.sendToQueue('transient.q', Buffer.from(`x${i}`), {persistent: true})
    await ch.waitForConfirms()
    await conn.close()
    expect(await depth('durable.q')).toBe(350)

    await broker.restart()

    expect(await depth('durable.q')).toBe(300)
    expect(await depth('transient.q')).toBeUndefined()
  })

  it('keeps confirmed persistent messages across kill -9', async () => {
    const conn = await connectAmqp(broker.amqpUrl)
    const ch = await conn.createConfirmChannel()
    for (let i = 0; i < 200; i++) ch.sendToQueue('durable.q', Buffer.from(`k${i}`), {persistent: true})
    await ch.waitForConfirms()
    await conn.close()

    await broker.killAndRestart()

    expect(await depth('durable.q')).toBe(500)
  })

  it('stops leaving no process, no epmd, no open port and no data', async () => {
    const {nodeName, dataDir, ports} = broker.facts
    expect(processesWithEnv(`RABBITMQ_NODENAME=${nodeName}`).length, 'found while it runs').toBeGreaterThan(0)
    await broker.stop()
    expect(processesWithEnv(`RABBITMQ_NODENAME=${nodeName}`), 'node processes').toEqual([])
    expect(await portClosed(ports.amqp), 'AMQP port').toBe(true)
    expect(await portClosed(ports.management), 'management port').toBe(true)
    expect(await portClosed(ports.epmd), 'epmd port').toBe(true)
    expect(existsSync(dataDir), 'data folder').toBe(false)
  })
})

describe('a port evt chose is taken before the node binds it', () => {
  it('the node is launched again on new ports, and the record and URLs say which', async () => {
    const broker = await prepareLocal({name: 'taken'})
    const taken = broker.facts.ports.dist
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(taken, '127.0.0.1', resolve))
    try {
      await launchFresh(broker, {})
      expect(broker.facts.ports.dist).not.toBe(taken)
      expect(broker.amqpUrl).toContain(`:${broker.facts.ports.amqp}`)
      expect(await amqpAnswers('127.0.0.1', broker.facts.ports.amqp)).toBe(true)
    } finally {
      holder.close()
      await broker.stop()
    }
  })
})
