import {spawn} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import type {ContainerBroker} from '../../src/broker/container.js'
import {dockerCall} from '../../src/broker/docker-api.js'
import {startBroker} from '../../src/broker/index.js'
import {managementAnswers} from '../../src/broker/probe.js'
import {runCli} from '../helpers/cli.js'
import {CONTAINER_IMAGE, containerSkipReason, waitForContainer, waitForNoContainer} from '../helpers/container.js'

// The container runtime through the library (startBroker): needs a Docker engine and the image. Where either is
// missing, each test is reported as skipped with the reason in its title, never as passed.
const skip = await containerSkipReason()
const cit = skip ? it.skip : it
const title = (t: string) => (skip ? `${t} (skipped: ${skip})` : t)

const scratch: string[] = []
afterAll(async () => {
  for (const dir of scratch) await rm(dir, {recursive: true, force: true})
})

describe('container runtime: the library (startBroker)', () => {
  cit(
    title(
      'answers AMQP and management, publishes only 5672/15672 on loopback, keeps messages across restart and kill -9, and is removed',
    ),
    async () => {
      const broker = (await startBroker({runtime: 'container', name: 'ct', image: CONTAINER_IMAGE})) as ContainerBroker
      try {
        expect(broker.runtime).toBe('container')
        expect(broker.amqpUrl).toMatch(/^amqp:\/\/evt:[0-9a-f]+@127\.0\.0\.1:\d+$/)
        expect(await managementAnswers(broker.managementUrl)).toBe(true)
        const inspect = JSON.parse((await dockerCall(`/containers/${broker.facts.id}/json`)).body.toString())
        const bindings = inspect.HostConfig.PortBindings as Record<string, {HostIp: string; HostPort: string}[]>
        expect(Object.keys(bindings).sort()).toEqual(['15672/tcp', '5672/tcp'])
        for (const b of Object.values(bindings).flat()) expect(b.HostIp).toBe('127.0.0.1')
        expect(inspect.Config.Labels).toMatchObject({'evt.broker': 'ct', 'evt.run': broker.facts.run})

        const conn = await connectAmqp(broker.amqpUrl)
        const ch = await conn.createConfirmChannel()
        await ch.assertQueue('durable.q', {durable: true})
        ch.sendToQueue('durable.q', Buffer.from('x'), {persistent: true})
        await ch.waitForConfirms()
        await conn.close().catch(() => undefined)
        await broker.restart()
        await broker.killAndRestart()
        const again = await connectAmqp(broker.amqpUrl)
        const ch2 = await again.createChannel()
        expect((await ch2.checkQueue('durable.q')).messageCount).toBe(1)
        await again.close()
      } finally {
        await broker.stop()
      }
      expect(await broker.isRunning()).toBe(false)
      expect(await waitForNoContainer({'evt.run': broker.facts.run ?? ''}, 2000)).toEqual([])
    },
    240_000,
  )

  cit(
    title('a container that is not ready by the deadline is removed, and the error says so'),
    async () => {
      const started = Date.now()
      const err = await startBroker({
        runtime: 'container',
        name: 'ct-slow',
        image: CONTAINER_IMAGE,
        timeoutMs: 1500,
      }).catch((e: Error) => e)
      expect(err).toBeInstanceOf(Error)
      expect((err as Error).message).toMatch(/was not ready after \d+s \(limit 1\.5s\); it was removed/)
      // The deadline holds (a start, plus the limit, plus removal), unlike the 133 s seen with a 15 s limit.
      expect(Date.now() - started).toBeLessThan(45_000)
      expect(await waitForNoContainer({'evt.broker': 'ct-slow'}, 5000)).toEqual([])
    },
    120_000,
  )

  cit(
    title('a throwaway container is removed when its owner is SIGKILLed (watchdog)'),
    async () => {
      const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
      const script = `
        import {startBroker} from ${JSON.stringify(dist)}
        const broker = await startBroker({runtime: 'container', name: 'ct-orphan', image: ${JSON.stringify(CONTAINER_IMAGE)}})
        console.log('READY ' + broker.record.container.run)
        setInterval(() => {}, 1000)
      `
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
      })
      let err = ''
      child.stderr.on('data', (d) => {
        err += d
      })
      const run = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no READY line: ${err}`)), 120_000)
        child.stdout.on('data', () => {
          const m = /READY (\w+)/.exec(out)
          if (m) {
            clearTimeout(timer)
            resolve(m[1])
          }
        })
        child.on('close', () => reject(new Error(`child exited: ${err}`)))
      })
      expect(await waitForContainer({'evt.run': run}, 1000)).toBeDefined()
      child.kill('SIGKILL')
      expect(await waitForNoContainer({'evt.run': run}, 20_000)).toEqual([])
    },
    180_000,
  )
})

describe('container runtime: errors name the image, the engine and the fix', () => {
  it('no engine at DOCKER_HOST: exit 3, names the address and --runtime local', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-nodocker-'))
    scratch.push(home)
    const r = await runCli(['up', '--runtime', 'container', '--no-provision'], {
      env: {EVT_HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock'},
    })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/Docker does not answer at unix:\/\/\/nonexistent\/docker\.sock/)
    expect(r.stderr).toMatch(/--runtime local/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  cit(title('an image that is not there: exit 3, names the image, the engine and EVT_IMAGE'), async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-noimage-'))
    scratch.push(home)
    const r = await runCli(['up', '--runtime', 'container', '--no-provision', '--image', 'evt/no-such-image:1'], {
      env: {EVT_HOME: home},
      timeoutMs: 60_000,
    })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('evt/no-such-image:1')
    expect(r.stderr).toContain(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock')
    expect(r.stderr).toMatch(/EVT_IMAGE/)
    expect(r.stderr).not.toMatch(/ryuk/)
    expect(await waitForNoContainer({'evt.state': home}, 2000)).toEqual([])
  })
})
