import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {loadCatalogue} from '../../../src/catalogue/catalogue.js'
import {generateEvent} from '../../../src/catalogue/generate.js'
import {EvtError} from '../../../src/errors.js'
import {
  builtinSystems,
  clearProjectCache,
  findProjectFile,
  loadProject,
  projectBrokerDefaults,
} from '../../../src/project/index.js'

const made: string[] = []
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, {recursive: true, force: true})
  clearProjectCache()
})

function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'evt-project-'))
  made.push(dir)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), {recursive: true})
    writeFileSync(join(dir, path), text)
  }
  return dir
}

function usageError(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    expect((err as EvtError).exitCode).toBe(2)
    return err as EvtError
  }
  throw new Error('expected a UsageError')
}

const EVENT = `name: parcel.shipped
system: parcels
vhost: parcels
exchange: parcels
routingKey: parcel.shipped
description: A parcel left the depot.
schema:
  type: object
  required: [parcelId]
  properties:
    parcelId: {type: string, pattern: "^P-\\\\d{4}$", x-pattern: "P-{{number:4}}"}
`

describe('loadProject', () => {
  it('without a project file, the catalogue and topology are the four seed systems', () => {
    const dir = folder()
    expect(findProjectFile(dir, {})).toBeUndefined()
    const p = loadProject(dir, {})
    expect(p.file).toBeUndefined()
    expect(p.builtinSystems).toEqual(['courses', 'customers', 'ecommerce', 'tutorgo'])
    expect(p.topologyFiles.map((f) => f.split('/').pop())).toEqual([
      'courses.json',
      'customers.json',
      'ecommerce.json',
      'tutorgo.json',
    ])
    expect(loadCatalogue(p.eventDirs).list().length).toBeGreaterThan(30)
  })

  it('is found walking up from a subfolder, and gives its own catalogue plus the included seed system', () => {
    const dir = folder({
      'evt.yaml':
        'name: parcels\ninclude: [builtin/courses]\nevents: [events]\ntopology: [topology]\npublish: {source: depot-service, tenant: acme}\n',
      'events/parcel.shipped.yaml': EVENT,
      'topology/parcels.json': '{"vhosts":[{"name":"parcels"}]}',
      'src/deep/.keep': '',
    })
    const p = loadProject(join(dir, 'src', 'deep'), {})
    expect(p.file).toBe(join(dir, 'evt.yaml'))
    expect(p.name).toBe('parcels')
    expect(p.builtinSystems).toEqual(['courses'])
    expect(p.topologyFiles.map((f) => f.split('/').pop())).toEqual(['parcels.json', 'courses.json'])
    expect(p.publish).toEqual({source: 'depot-service', tenant: 'acme'})
    const types = loadCatalogue(p.eventDirs, {source: p.publish.source}).list()
    expect(types.find((t) => t.system === 'parcels')?.source).toBe('depot-service')
    expect(types.map((t) => t.qualifiedName)).toEqual(['courses/videos.created', 'parcels/parcel.shipped'])
  })

  it('EVT_PROJECT names the project folder without walking up', () => {
    const dir = folder({'evt.yaml': 'name: here\n'})
    const elsewhere = folder()
    expect(loadProject(elsewhere, {EVT_PROJECT: dir}).name).toBe('here')
    expect(usageError(() => loadProject(elsewhere, {EVT_PROJECT: join(dir, 'nope.yaml')})).message).toContain(
      'EVT_PROJECT',
    )
  })

  it.each([
    ['evnets: [events]\n', 'evnets: unknown key'],
    ['include: [builtin/shop]\n', 'include[0]: no built-in system "shop"'],
    ['include: [everything]\n', 'include[0]: must be "builtin" or "builtin/<system>"'],
    ['events: [missing]\n', 'events[0]: no such folder missing'],
    ['topology: [a.json]\n', 'topology[0]: no such file a.json'],
    ['publish: {envelope: xml}\n', 'publish.envelope: must be one of standard, none, cloudevents'],
    ['broker: {runtime: vm}\n', 'broker.runtime: must be one of'],
    ['events: events\n', 'events: must be array'],
    ['name: [x\n', 'not valid YAML'],
  ])('a wrong project file (%s) is exit 2 naming the file and the key', (text, expected) => {
    const dir = folder({'evt.yaml': text})
    const err = usageError(() => loadProject(dir, {}))
    expect(err.message).toContain('evt.yaml')
    expect(err.message).toContain(expected)
  })

  it('broker defaults come from the project; a broken project file gives none (evt down still works)', () => {
    const good = folder({'evt.yaml': 'broker: {name: harbour, runtime: local, image: rabbitmq:4.0-management}\n'})
    expect(projectBrokerDefaults(good)).toEqual({name: 'harbour', runtime: 'local', image: 'rabbitmq:4.0-management'})
    const broken = folder({'evt.yaml': 'broker: {vhost: x}\n'})
    expect(usageError(() => loadProject(broken, {})).message).toContain('broker.vhost: unknown key')
    expect(projectBrokerDefaults(broken)).toEqual({})
  })

  it('the built-in system list is the packaged one', () => {
    expect(builtinSystems()).toEqual(['courses', 'customers', 'ecommerce', 'tutorgo'])
  })
})

describe('catalogue entries from a project', () => {
  it('take publish.source when they name no source, and examples become the published data in turn', async () => {
    const dir = folder({
      'events/parcel.shipped.yaml': `${EVENT}examples:\n  - {parcelId: P-0001}\n  - {parcelId: P-0002}\n`,
    })
    expect(usageError(() => loadCatalogue(join(dir, 'events'))).message).toContain('has no "source"')
    const type = loadCatalogue(join(dir, 'events'), {source: 'depot-service'}).list()[0]
    if (!type) throw new Error('no type')
    expect(type.source).toBe('depot-service')
    const bodies = await Promise.all([0, 1, 2].map((index) => generateEvent(type, {index, envelope: 'none'})))
    expect(bodies.map((b) => b.envelope.parcelId)).toEqual(['P-0001', 'P-0002', 'P-0001'])
  })
})
