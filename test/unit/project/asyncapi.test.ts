import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {loadCatalogue} from '../../../src/catalogue/catalogue.js'
import {generateEvent} from '../../../src/catalogue/generate.js'
import {dataValidator} from '../../../src/catalogue/validate.js'
import {EvtError} from '../../../src/errors.js'
import {toAsyncApi} from '../../../src/project/asyncapi/export.js'
import {importAsyncApi} from '../../../src/project/asyncapi/import.js'
import {parseAsyncApi} from '../../../src/project/asyncapi/parse.js'
import {initProject} from '../../../src/project/init.js'
import {clearProjectCache, loadProject} from '../../../src/project/project.js'
import {loadTopology} from '../../../src/topology/load.js'
import {routeMessage} from '../../../src/topology/routing.js'

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'asyncapi')
const read = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')

const made: string[] = []
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, {recursive: true, force: true})
  clearProjectCache()
})
function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'evt-init-'))
  made.push(dir)
  return dir
}

async function rejects(p: Promise<unknown>): Promise<EvtError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(EvtError)
  expect((err as EvtError).exitCode).toBe(2)
  return err as EvtError
}

describe('AsyncAPI import', () => {
  it('3.0: channels with AMQP bindings become exchanges, queues, bindings and one event type per message', async () => {
    const result = await importAsyncApi(read('harbour-3.0.yaml'), 'harbour-3.0.yaml')
    expect(result.system).toBe('harbour-ops')
    expect(result.envelope).toBe('none')
    expect(result.events.map((e) => [e.name, e.exchange, e.routingKey, e.vhost])).toEqual([
      ['vessel.arrived', 'harbour.events', 'vessel.{data.berth}.arrived', 'harbour'],
      ['container.unloaded', 'harbour.events', 'container.unloaded', 'harbour'],
      ['customs.hold.placed', 'harbour.customs', 'customs.hold.placed', 'harbour'],
    ])
    expect(result.topology.exchanges.map((e) => `${e.name}:${e.type}`)).toEqual([
      'harbour.events:topic',
      'harbour.customs:direct',
    ])
    expect(result.topology.bindings.map((b) => `${b.source} -${b.routing_key}-> ${b.destination}`)).toEqual([
      'harbour.events -vessel.*.arrived-> billing.port-fees',
      'harbour.events -container.unloaded-> billing.port-fees',
      'harbour.customs -customs.hold.placed-> customs.desk',
    ])
    const vessel = result.events[0]
    expect(vessel?.examples?.[0]?.vesselName).toBe('Maersk Elba')
    // $refs resolved, parser bookkeeping gone.
    const customs = JSON.stringify(result.events[2]?.schema)
    expect(customs).toContain('^[A-Z]{4}\\\\d{7}$')
    expect(customs).not.toContain('x-parser')
  })

  it('2.6: channel keys are routing keys, a parameter that is a payload field fills the key', async () => {
    const result = await importAsyncApi(read('greenhouse-2.6.yaml'), 'greenhouse-2.6.yaml')
    expect(result.asyncapiVersion).toBe('2.6.0')
    expect(result.events.map((e) => [e.name, e.exchange, e.routingKey])).toEqual([
      ['climate.reading', 'climate', 'climate.{data.zone}.reading'],
      ['climate.alarm', 'climate', 'climate.alarm'],
    ])
    expect(result.events[1]?.examples).toEqual([{zone: 'herbs', kind: 'too-dry', value: 21.5}])
    expect(result.topology.vhosts.map((v) => v.name)).toEqual(['greenhouse'])
  })

  it('an invalid document is exit 2 with the path of the problem', async () => {
    const text = read('harbour-3.0.yaml').replace('action: send', 'action: shout')
    const err = await rejects(importAsyncApi(text, 'broken.yaml'))
    expect(err.message).toContain('broken.yaml is not a valid AsyncAPI document')
    expect(err.message).toContain('operations.announceArrival')
  })
})

describe('AsyncAPI export', () => {
  it('the seed catalogue and topology make a 3.0 document the official parser accepts, and it imports back', async () => {
    const types = loadCatalogue().list()
    const defs = await loadTopology()
    const keys = new Map<string, string>()
    for (const t of types) keys.set(t.qualifiedName, (await generateEvent(t, {seed: 1})).routingKey)
    const doc = toAsyncApi({
      title: 'seeds',
      types,
      defs,
      envelope: 'standard',
      sampleKey: (t) => keys.get(t.qualifiedName) ?? t.routingKey,
    })
    const parsed = await parseAsyncApi(JSON.stringify(doc), 'export')
    expect(parsed.version()).toBe('3.0.0')
    const back = await importAsyncApi(JSON.stringify(doc), 'export')
    expect(back.envelope).toBe('standard')
    const tutorgo = types.filter((t) => t.system === 'tutorgo')
    for (const t of tutorgo) {
      const imported = back.events.find((e) => e.name === t.name && e.system === t.system)
      expect(imported?.source).toBe(t.source)
      expect(imported?.routingKey).toBe(t.routingKey)
    }
    // Queues come back bound so that each type lands where the seed topology sends it.
    const created = types.find((t) => t.qualifiedName === 'tutorgo/booking.created')
    if (!created) throw new Error('no booking.created')
    expect(routeMessage(back.topology, 'tutorgo', 'tutorgo_events', 'booking.created')).toEqual(
      routeMessage(defs, 'tutorgo', 'tutorgo_events', 'booking.created'),
    )
  })
})

describe('evt init', () => {
  it('--asyncapi writes a project whose generated messages fit their schemas', async () => {
    const dir = tmp()
    const result = await initProject({dir, asyncapi: join(FIXTURES, 'harbour-3.0.yaml')})
    expect(result).toMatchObject({name: 'Harbour Ops', kind: 'asyncapi', events: 3, exchanges: 2, queues: 2})
    expect(result.notes).toEqual([])
    const project = loadProject(dir, {})
    expect(project.publish.envelope).toBe('none')
    expect(project.topologyFiles).toEqual([join(dir, 'topology', 'harbour-ops.json')])
    const types = loadCatalogue(project.eventDirs).list()
    expect(types).toHaveLength(3)
    for (const type of types) {
      for (const index of [0, 1, 2]) {
        const event = await generateEvent(type, {index, envelope: 'none'})
        expect((await dataValidator(type))(event.envelope)).toEqual([])
      }
    }
  })

  it('--example copies one seed system; an existing project is exit 2 without --force', async () => {
    const dir = tmp()
    const result = await initProject({dir, example: 'tutorgo'})
    expect(result.events).toBe(4)
    expect(existsSync(join(dir, 'topology', 'tutorgo.json'))).toBe(true)
    expect(
      loadCatalogue(loadProject(dir, {}).eventDirs)
        .list()
        .every((t) => t.system === 'tutorgo'),
    ).toBe(true)
    expect((await rejects(initProject({dir}))).message).toContain('already exists')
    await initProject({dir, force: true})
    expect((await rejects(initProject({dir: tmp(), example: 'shop'}))).message).toContain('no seed system "shop"')
  })

  it('empty: a valid project with an empty catalogue and topology', async () => {
    const dir = tmp()
    await initProject({dir})
    const project = loadProject(dir, {})
    expect(project.topologyFiles).toEqual([])
    expect(loadCatalogue(project.eventDirs).list()).toEqual([])
  })
})
