import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import {inspectContainer} from '../../src/broker/docker-api.js'
import {findRabbitmqBinDir} from '../../src/broker/local.js'
import type {BrokerRecord} from '../../src/broker/types.js'
import {runCli, spawnCli} from '../helpers/cli.js'
import {CONTAINER_IMAGE, containerSkipReason, waitForContainer, waitForNoContainer} from '../helpers/container.js'

// `evt up` / `down` / `status` / `scenario` on the container runtime, through the built CLI. Needs a Docker engine
// and the image; where either is missing each test is reported as skipped with the reason, never as passed.
const skip = await containerSkipReason()
const cit = skip ? it.skip : it
const title = (t: string) => (skip ? `${t} (skipped: ${skip})` : t)

let home: string
const env = (extra: Record<string, string> = {}) => ({EVT_HOME: home, EVT_IMAGE: CONTAINER_IMAGE, ...extra})
const up = (name: string, ...args: string[]) =>
  runCli(['up', '--runtime', 'container', '--name', name, '--no-provision', '--json', ...args], {
    env: env(),
    timeoutMs: 150_000,
  })
const down = (name: string, ...args: string[]) =>
  runCli(['down', '--name', name, '--json', ...args], {env: env(), timeoutMs: 60_000})
const record = async (name: string) =>
  JSON.parse(await readFile(join(home, 'brokers', `${name}.json`), 'utf8')) as BrokerRecord
const exitOf = (child: ReturnType<typeof spawnCli>) =>
  new Promise<number | null>((resolve) => child.on('close', (code, sig) => resolve(code ?? (sig ? -1 : null))))

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-cli-container-'))
})

afterAll(async () => {
  if (!skip) {
    for (const name of ['pair-a', 'pair-b', 'keep', 'killed', 'ctrlc']) await down(name).catch(() => undefined)
    await waitForNoContainer({'evt.state': home}, 10_000).catch(() => undefined)
  }
  await rm(home, {recursive: true, force: true})
})

describe('evt up / status / down on containers', () => {
  cit(
    title(
      'two named containers side by side (EVT_IMAGE), status shows runtime, image, container id and version; down removes each',
    ),
    async () => {
      const [ra, rb] = await Promise.all([up('pair-a'), up('pair-b')])
      expect(ra.code, ra.stdout + ra.stderr).toBe(0)
      expect(rb.code, rb.stdout + rb.stderr).toBe(0)
      const a = JSON.parse(ra.stdout)
      const b = JSON.parse(rb.stdout)
      expect(a).toMatchObject({name: 'pair-a', runtime: 'container', status: 'started', image: CONTAINER_IMAGE})
      expect(b).toMatchObject({name: 'pair-b', runtime: 'container', status: 'started'})
      expect(a.node).not.toBe(b.node)
      expect(a.amqpUrl).not.toBe(b.amqpUrl)

      const st = await runCli(['status', '--name', 'pair-a'], {env: env()})
      expect(st.code, st.stdout + st.stderr).toBe(0)
      expect(st.stdout).toMatch(/runtime\s+container/)
      expect(st.stdout).toContain(`container   ${a.node} (image ${CONTAINER_IMAGE})`)
      expect(st.stdout).toMatch(/version\s+RabbitMQ \d+\.\d+/)

      const started = Date.now()
      const da = await down('pair-a')
      expect(da.code, da.stdout + da.stderr).toBe(0)
      expect(JSON.parse(da.stdout)).toMatchObject({stopped: true, runtime: 'container', keptData: false})
      expect(Date.now() - started).toBeLessThan(5000)
      expect(await inspectContainer(a.node)).toBeUndefined()
      // The other one is untouched.
      expect((await inspectContainer(b.node))?.State.Running).toBe(true)
      // pair-b loses its record (as if its `evt up` was killed before writing it): its labels still find it.
      await rm(join(home, 'brokers', 'pair-b.json'))
      const db = await down('pair-b')
      expect(db.code, db.stdout + db.stderr).toBe(0)
      expect(JSON.parse(db.stdout)).toMatchObject({stopped: true, cleanedInterruptedStart: true})
      expect(await inspectContainer(b.node)).toBeUndefined()
    },
    300_000,
  )

  cit(
    title('down --keep-data stops the container; the next up resumes the same one with its data and topology'),
    async () => {
      const first = await up('keep')
      expect(first.code, first.stdout + first.stderr).toBe(0)
      const rec = await record('keep')
      const conn = await connectAmqp(rec.amqpUrl)
      const ch = await conn.createConfirmChannel()
      await ch.assertExchange('kept.x', 'topic', {durable: true})
      await ch.assertQueue('kept.q', {durable: true})
      await ch.bindQueue('kept.q', 'kept.x', '#')
      ch.publish('kept.x', 'a', Buffer.from('m'), {persistent: true})
      await ch.waitForConfirms()
      await conn.close().catch(() => undefined)

      const d = await down('keep', '--keep-data')
      expect(d.code, d.stdout + d.stderr).toBe(0)
      expect(JSON.parse(d.stdout)).toMatchObject({stopped: true, keptData: true})
      const stopped = await inspectContainer(rec.container?.id ?? '')
      expect(stopped?.State.Running).toBe(false)
      expect((await record('keep')).state).toBe('stopped')

      const again = await up('keep')
      expect(again.code, again.stdout + again.stderr).toBe(0)
      expect(JSON.parse(again.stdout)).toMatchObject({status: 'resumed', node: rec.container?.id.slice(0, 12)})
      expect(await waitForContainer({'evt.broker': 'keep', 'evt.state': home})).toBe(rec.container?.id)
      const c2 = await connectAmqp(rec.amqpUrl)
      const ch2 = await c2.createChannel()
      expect((await ch2.checkQueue('kept.q')).messageCount).toBe(1)
      await ch2.checkExchange('kept.x')
      await c2.close().catch(() => undefined)
      expect((await down('keep')).code).toBe(0)
      expect(await waitForNoContainer({'evt.broker': 'keep', 'evt.state': home}, 5000)).toEqual([])
    },
    300_000,
  )

  cit(
    title('Ctrl-C during `evt up` removes the container and the record'),
    async () => {
      const child = spawnCli(['up', '--runtime', 'container', '--name', 'ctrlc', '--no-provision'], {env: env()})
      const id = await waitForContainer({'evt.broker': 'ctrlc', 'evt.state': home}, 60_000)
      expect(id).toBeDefined()
      child.kill('SIGINT')
      const code = await exitOf(child)
      expect(code).toBe(130)
      expect(await waitForNoContainer({'evt.broker': 'ctrlc', 'evt.state': home}, 5000)).toEqual([])
      const d = await down('ctrlc')
      expect(JSON.parse(d.stdout)).toMatchObject({stopped: false})
    },
    180_000,
  )

  cit(
    title('an `evt up` SIGKILLed mid-start: the next `evt up` adopts or replaces its container, `evt down` removes it'),
    async () => {
      const child = spawnCli(['up', '--runtime', 'container', '--name', 'killed', '--no-provision'], {env: env()})
      const id = await waitForContainer({'evt.broker': 'killed', 'evt.state': home}, 60_000)
      expect(id).toBeDefined()
      child.kill('SIGKILL')
      await exitOf(child)
      // Still there: nobody removed it (no watchdog for `evt up`: it must outlive its process).
      expect(await inspectContainer(id ?? '')).toBeDefined()
      const again = await up('killed')
      expect(again.code, again.stdout + again.stderr).toBe(0)
      expect(['adopted', 'started']).toContain(JSON.parse(again.stdout).status)
      // Exactly one container for the name: the killed start's was adopted or removed, never orphaned.
      const ids = await waitForContainer({'evt.broker': 'killed', 'evt.state': home})
      expect(ids).toBeDefined()
      const {listByLabels} = await import('../../src/broker/docker-api.js')
      expect(await listByLabels({'evt.broker': 'killed', 'evt.state': home})).toHaveLength(1)
      expect((await down('killed')).code).toBe(0)
      expect(await waitForNoContainer({'evt.broker': 'killed', 'evt.state': home}, 5000)).toEqual([])
    },
    300_000,
  )
})

describe('auto and scenarios on containers', () => {
  const local = findRabbitmqBinDir() !== undefined
  ;(local ? cit : it.skip)(
    title('auto falls back to a local node, with a one-line notice, when the image cannot be had'),
    async () => {
      const r = await runCli(['up', '--name', 'fallback', '--no-provision', '--json'], {
        env: env({EVT_IMAGE: 'evt/no-such-image:1'}),
        timeoutMs: 120_000,
      })
      try {
        expect(r.code, r.stdout + r.stderr).toBe(0)
        expect(JSON.parse(r.stdout).runtime).toBe('local')
        const notice = r.stderr.split('\n').find((l) => l.includes('evt/no-such-image:1'))
        expect(notice).toMatch(/Using a local node, not a container: the image evt\/no-such-image:1 is not in Docker/)
      } finally {
        await runCli(['down', '--name', 'fallback'], {env: env(), timeoutMs: 60_000})
      }
    },
    180_000,
  )

  cit(
    title('`evt scenario durability --kill` on a throwaway container (--image), then nothing is left'),
    async () => {
      const scnHome = await mkdtemp(join(tmpdir(), 'evt-scn-container-'))
      try {
        const r = await runCli(
          [
            'scenario',
            'durability',
            '--kill',
            '--messages',
            '2000',
            '--runtime',
            'container',
            '--image',
            CONTAINER_IMAGE,
            '--json',
          ],
          {env: {EVT_HOME: scnHome}, timeoutMs: 240_000},
        )
        expect(r.code, r.stdout + r.stderr).toBe(0)
        const report = JSON.parse(r.stdout)
        expect(report.broker).toMatchObject({source: 'throwaway', runtime: 'container'})
        expect(report.scenarios[0].status).toBe('passed')
        expect(await waitForNoContainer({'evt.broker': 'scenario'}, 5000)).toEqual([])
      } finally {
        await rm(scnHome, {recursive: true, force: true})
      }
    },
    300_000,
  )

  cit(
    title('Ctrl-C while a scenario starts its throwaway container removes the container'),
    async () => {
      const scnHome = await mkdtemp(join(tmpdir(), 'evt-scn-ctrlc-'))
      try {
        const child = spawnCli(['scenario', 'durability', '--messages', '200000', '--runtime', 'container'], {
          env: {EVT_HOME: scnHome, EVT_IMAGE: CONTAINER_IMAGE},
        })
        // Interrupted while its throwaway container starts (the container exists, the scenario has not begun).
        const id = await waitForContainer({'evt.broker': 'scenario'}, 60_000)
        expect(id).toBeDefined()
        child.kill('SIGINT')
        expect(await exitOf(child)).toBe(130)
        expect(await waitForNoContainer({'evt.broker': 'scenario'}, 5000)).toEqual([])
      } finally {
        await rm(scnHome, {recursive: true, force: true})
      }
    },
    240_000,
  )
})
