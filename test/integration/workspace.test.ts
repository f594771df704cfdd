import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connectAmqp, createTestVhost, type TestVhost} from '../helpers/broker.js'
import {runCli, spawnCli} from '../helpers/cli.js'

// A project made from the harbour AsyncAPI 3 document, in this file's own vhost: provision, publish,
// verify (a good and a broken message), scenario topology.
let tv: TestVhost
let dir: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  tv = await createTestVhost('workspace')
  dir = await mkdtemp(join(tmpdir(), 'evt-workspace-'))
  const doc = await readFile(join(import.meta.dirname, '..', 'fixtures', 'asyncapi', 'harbour-3.0.yaml'), 'utf8')
  await writeFile(join(dir, 'harbour.yaml'), doc.replaceAll('vhost: harbour', `vhost: ${tv.vhost}`))
  env = {RABBITMQ_URL: tv.brokerUrl, RABBITMQ_MANAGEMENT_URL: tv.managementUrl, EVT_HOME: join(dir, '.evt')}
})
afterAll(async () => {
  await tv?.cleanup()
  if (dir) await rm(dir, {recursive: true, force: true})
})

describe('a project from an AsyncAPI document', () => {
  it('init, provision, publish, verify and scenario topology use the project', async () => {
    const init = await runCli(['init', '--asyncapi', 'harbour.yaml', '--json'], {cwd: dir, env})
    expect(init.code, init.stdout + init.stderr).toBe(0)
    expect(JSON.parse(init.stdout)).toMatchObject({events: 3, exchanges: 2, queues: 2, notes: []})

    const events = await runCli(['events', '--json'], {cwd: dir, env})
    expect(JSON.parse(events.stdout).map((e: {qualifiedName: string}) => e.qualifiedName)).toEqual([
      'harbour-ops/container.unloaded',
      'harbour-ops/customs.hold.placed',
      'harbour-ops/vessel.arrived',
    ])

    const provision = await runCli(['provision', '--json'], {cwd: dir, env})
    expect(provision.code, provision.stdout + provision.stderr).toBe(0)

    const junit = join(dir, 'contracts.xml')
    const verify = spawnCli(['verify', 'harbour.events', '--count', '3', '--timeout', '60', '--junit', junit], {
      cwd: dir,
      env,
    })
    let out = ''
    let err = ''
    verify.stdout?.on('data', (d) => (out += d))
    verify.stderr?.on('data', (d) => (err += d))
    const exit = new Promise<number | null>((resolve) => verify.on('close', resolve))
    const deadline = Date.now() + 20_000
    while (!/tapping/.test(err)) {
      if (verify.exitCode !== null || Date.now() > deadline) throw new Error(`verify did not start: ${err}`)
      await new Promise((r) => setTimeout(r, 25))
    }

    const publish = await runCli(['publish', 'vessel.arrived', 'container.unloaded', '--json'], {cwd: dir, env})
    expect(publish.code, publish.stdout + publish.stderr).toBe(0)
    // A producer that breaks the contract: a malformed container number and a missing field.
    const conn = await connectAmqp(tv.amqpUrl)
    const ch = await conn.createConfirmChannel()
    ch.publish(
      'harbour.events',
      'container.unloaded',
      Buffer.from(JSON.stringify({containerId: 'MSCU12', vesselId: 'IMO-9321483', crane: 3, unloadedAt: 'now'})),
      {contentType: 'application/json', type: 'container.unloaded'},
    )
    await ch.waitForConfirms()
    await conn.close()

    expect(await exit, err).toBe(1)
    expect(out).toContain('3 messages checked')
    expect(out).toContain('2 valid, 1 invalid, 0 unknown')
    expect(err).toContain('$.containerId must match pattern')
    expect(err).toContain('$ must have property "weightKg"')
    expect(err).toContain('$.unloadedAt must match format "date-time"')
    const xml = await readFile(junit, 'utf8')
    expect(xml).toContain('tests="3"')
    expect(xml).toContain('failures="1"')

    const scenario = await runCli(['scenario', 'topology', '--json'], {cwd: dir, env})
    expect(scenario.code, scenario.stdout + scenario.stderr).toBe(0)
    const report = JSON.parse(scenario.stdout)
    expect(JSON.stringify(report)).toContain('3 event types')
  })
})

describe('a project inferred from a live broker', () => {
  it('init --from-broker: the definitions, and schemas that accept every message seen', async () => {
    const own = await createTestVhost('frombroker')
    const target = join(dir, 'inferred')
    try {
      const conn = await connectAmqp(own.amqpUrl)
      const ch = await conn.createConfirmChannel()
      await ch.assertExchange('meters', 'topic', {durable: true})
      await ch.assertQueue('billing.readings', {durable: true})
      await ch.bindQueue('billing.readings', 'meters', 'meter.#')
      // Our own small publisher: two kinds of message, with optional fields and varying numbers.
      const sent: Record<string, unknown>[] = []
      const publishAll = async () => {
        for (let i = 0; i < 12; i++) {
          const reading = {
            meterId: `MTR-${1000 + i * 37}`,
            kwh: i * 1.25,
            at: new Date(Date.UTC(2024, 0, 1, i)).toISOString(),
          }
          const body = i % 3 === 0 ? {...reading, estimated: true} : reading
          sent.push(body)
          ch.publish('meters', 'meter.reading', Buffer.from(JSON.stringify(body)), {
            type: 'meter.reading',
            appId: 'meter-gw',
          })
        }
        ch.publish('meters', 'meter.fault', Buffer.from(JSON.stringify({meterId: 'MTR-1', code: 'E42'})), {
          type: 'meter.fault',
        })
        await ch.waitForConfirms()
      }
      let ready: () => void = () => {}
      const tapping = new Promise<void>((resolve) => (ready = resolve))
      const {initProject} = await import('../../src/project/init.js')
      const running = initProject({
        dir: target,
        fromBroker: {
          amqpUrl: own.brokerUrl,
          managementUrl: own.managementUrl,
          vhost: own.vhost,
          seconds: 30,
          maxMessages: 13,
          log: () => ready(),
        },
      })
      await tapping
      await publishAll()
      const result = await running
      await conn.close()
      expect(result).toMatchObject({kind: 'broker', messages: 13, events: 2, exchanges: 1, queues: 1, notes: []})

      const {loadProject} = await import('../../src/project/project.js')
      const {loadCatalogue} = await import('../../src/catalogue/catalogue.js')
      const {dataValidator} = await import('../../src/catalogue/validate.js')
      const project = loadProject(target, {})
      expect(project.publish.envelope).toBe('none')
      const types = loadCatalogue(project.eventDirs).list()
      const reading = types.find((t) => t.name === 'meter.reading')
      if (!reading) throw new Error(`no meter.reading in ${types.map((t) => t.name)}`)
      expect(reading).toMatchObject({exchange: 'meters', routingKey: 'meter.reading', source: 'meter-gw'})
      expect(reading.schema.required).toEqual(['meterId', 'kwh', 'at'])
      const validate = await dataValidator(reading)
      for (const body of sent) expect(validate(body)).toEqual([])
      const topology = JSON.parse(await readFile(join(target, 'topology', 'broker.json'), 'utf8'))
      expect(topology.users).toEqual([])
      expect(topology.bindings).toEqual([expect.objectContaining({source: 'meters', destination: 'billing.readings'})])
    } finally {
      await own.cleanup()
    }
  })
})
