import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import {dockerAnswers} from '../../src/broker/container.js'
import {startBroker} from '../../src/broker/index.js'
import {managementAnswers} from '../../src/broker/probe.js'
import {runCli} from '../helpers/cli.js'

// The container runtime needs a Docker engine; where none answers (this project's CI machine has only
// the docker client) the test is reported as skipped, never faked.
const docker = await dockerAnswers()

describe('container runtime (Testcontainers)', () => {
  it.skipIf(docker)('without a Docker engine, evt up --runtime container is exit 3 naming the fixes', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-nodocker-'))
    try {
      const r = await runCli(['up', '--runtime', 'container'], {env: {EVT_HOME: home}})
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/Docker does not answer/)
      expect(r.stderr).toMatch(/--runtime local/)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    } finally {
      await rm(home, {recursive: true, force: true})
    }
  })

  it.skipIf(!docker)(
    'starts rabbitmq:3.13-management, answers AMQP and management, survives a restart, and is removed',
    async () => {
      const broker = await startBroker({runtime: 'container', name: 'ct'})
      try {
        expect(broker.runtime).toBe('container')
        expect(broker.amqpUrl).toMatch(/^amqp:\/\/evt:[0-9a-f]+@127\.0\.0\.1:\d+$/)
        expect(await managementAnswers(broker.managementUrl)).toBe(true)
        const conn = await connectAmqp(broker.amqpUrl)
        const ch = await conn.createConfirmChannel()
        await ch.assertQueue('durable.q', {durable: true})
        ch.sendToQueue('durable.q', Buffer.from('x'), {persistent: true})
        await ch.waitForConfirms()
        await conn.close()
        await broker.restart()
        const again = await connectAmqp(broker.amqpUrl)
        const ch2 = await again.createChannel()
        expect((await ch2.checkQueue('durable.q')).messageCount).toBe(1)
        await again.close()
      } finally {
        await broker.stop()
      }
      expect(await broker.isRunning()).toBe(false)
    },
    300_000,
  )
})
