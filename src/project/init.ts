import {cpSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {basename, join, relative, resolve} from 'node:path'
import {UsageError} from '../errors.js'
import type {EventFixture} from './asyncapi/import.js'
import type {FromBrokerOptions} from './from-broker.js'
import {builtinEventsDir, builtinSystems, builtinTopologyDir} from './paths.js'
import {PROJECT_FILE_NAMES} from './schema.js'

export interface InitOptions {
  /** The folder to scaffold (created when missing). */
  dir: string
  /** Start from one seed system (customers, ecommerce, tutorgo, courses). */
  example?: string
  /** Start from an AsyncAPI 2.x/3.x document. */
  asyncapi?: string
  /** Start from a live broker: its definitions, and schemas inferred from the messages seen. */
  fromBroker?: FromBrokerOptions
  /** The project's name (default: the folder's, or the AsyncAPI title). */
  name?: string
  /** Overwrite an existing project file. */
  force?: boolean
}

export interface InitResult {
  dir: string
  file: string
  name: string
  kind: 'empty' | 'example' | 'asyncapi' | 'broker'
  /** Files written, relative to dir. */
  created: string[]
  events: number
  exchanges: number
  queues: number
  /** Messages seen (--from-broker). */
  messages?: number
  /** What evt assumed or could not do (AsyncAPI import). */
  notes: string[]
}

/** `evt init`: an evt.yaml and its folders, empty or filled from a seed system or an AsyncAPI document. */
export async function initProject(options: InitOptions): Promise<InitResult> {
  if ([options.example, options.asyncapi, options.fromBroker].filter(Boolean).length > 1)
    throw new UsageError('give one of --example, --asyncapi, --from-broker')
  const dir = resolve(options.dir)
  const existing = PROJECT_FILE_NAMES.map((n) => join(dir, n)).find((p) => existsSync(p))
  if (existing && !options.force)
    throw new UsageError(`${existing} already exists`, 'Edit it, or pass --force to write a new one over it')
  mkdirSync(dir, {recursive: true})
  const created: string[] = []
  const write = (path: string, text: string) => {
    const full = join(dir, path)
    mkdirSync(join(full, '..'), {recursive: true})
    writeFileSync(full, text)
    created.push(path)
  }
  for (const folder of ['events', 'topology', 'scenarios']) mkdirSync(join(dir, folder), {recursive: true})
  let name = options.name ?? basename(dir)
  let kind: InitResult['kind'] = 'empty'
  let events = 0
  let exchanges = 0
  let queues = 0
  const notes: string[] = []
  let envelope: 'standard' | 'none' | 'cloudevents' = 'standard'

  if (options.example) {
    kind = 'example'
    const system = options.example
    const systems = builtinSystems()
    if (!systems.includes(system))
      throw new UsageError(`--example: no seed system "${system}"`, `Seed systems: ${systems.join(', ')}`)
    cpSync(join(builtinEventsDir(), system), join(dir, 'events', system), {recursive: true})
    cpSync(join(builtinTopologyDir(), `${system}.json`), join(dir, 'topology', `${system}.json`))
    created.push(`events/${system}/`, `topology/${system}.json`)
    const defs = JSON.parse(readFileSync(join(dir, 'topology', `${system}.json`), 'utf8')) as {
      exchanges?: unknown[]
      queues?: unknown[]
    }
    const {loadCatalogue} = await import('../catalogue/catalogue.js')
    events = loadCatalogue(join(dir, 'events')).list().length
    exchanges = defs.exchanges?.length ?? 0
    queues = defs.queues?.length ?? 0
  } else if (options.asyncapi) {
    kind = 'asyncapi'
    const file = resolve(options.asyncapi)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new UsageError(`--asyncapi: cannot read ${options.asyncapi}: ${(err as NodeJS.ErrnoException).code ?? err}`)
    }
    const {importAsyncApi} = await import('./asyncapi/import.js')
    const imported = await importAsyncApi(text, options.asyncapi)
    name = options.name ?? imported.title
    // The document describes the bodies on the wire: publish them as they are (no evt envelope around them).
    envelope = imported.envelope
    const YAML = await import('yaml')
    for (const event of imported.events) write(`events/${event.system}/${event.name}.yaml`, eventYaml(YAML, event))
    write(`topology/${imported.system}.json`, `${JSON.stringify(imported.topology, null, 2)}\n`)
    write(`asyncapi/${basename(file)}`, text)
    events = imported.events.length
    exchanges = imported.topology.exchanges.length
    queues = imported.topology.queues.length
    notes.push(...imported.notes, ...(await checkRecipes(join(dir, 'events'))))
  }

  let messages: number | undefined
  if (options.fromBroker) {
    kind = 'broker'
    const {inferFromBroker} = await import('./from-broker.js')
    const inferred = await inferFromBroker(options.fromBroker)
    envelope = inferred.envelope
    messages = inferred.messages
    const YAML = await import('yaml')
    for (const event of inferred.events)
      write(
        `events/${event.system}/${event.name}.yaml`,
        `# Inferred by evt init --from-broker from the messages seen: review it (x-inferred marks what evt guessed).\n${YAML.stringify(event, {lineWidth: 0})}`,
      )
    write('topology/broker.json', `${JSON.stringify(inferred.topology, null, 2)}\n`)
    events = inferred.events.length
    exchanges = inferred.topology.exchanges.length
    queues = inferred.topology.queues.length
    notes.push(...inferred.notes, ...(events > 0 ? await checkRecipes(join(dir, 'events')) : []))
  }

  for (const folder of ['events', 'topology', 'scenarios']) {
    if (!created.some((c) => c.startsWith(`${folder}/`))) write(`${folder}/.gitkeep`, '')
  }
  const file = join(dir, 'evt.yaml')
  const origin =
    kind === 'asyncapi'
      ? `imported from asyncapi/${basename(options.asyncapi ?? '')}`
      : kind === 'broker'
        ? `inferred from a live broker (${messages ?? 0} messages seen)`
        : undefined
  writeFileSync(file, projectYaml(name, {origin, envelope}))
  created.unshift('evt.yaml')
  return {
    dir,
    file,
    name,
    kind,
    created,
    events,
    exchanges,
    queues,
    ...(messages === undefined ? {} : {messages}),
    notes,
  }
}

function eventYaml(YAML: typeof import('yaml'), event: EventFixture): string {
  return `# Imported from AsyncAPI. Add x-faker / x-pattern hints to the schema for livelier data (docs/publish.md).\n${YAML.stringify(event, {lineWidth: 0})}`
}

/** Generate one message per imported type and check it against its schema: a note for each that fails. */
async function checkRecipes(eventsDir: string): Promise<string[]> {
  const {loadCatalogue} = await import('../catalogue/catalogue.js')
  const {generateEvent} = await import('../catalogue/generate.js')
  const {dataValidator} = await import('../catalogue/validate.js')
  const notes: string[] = []
  for (const type of loadCatalogue(eventsDir).list()) {
    try {
      const event = await generateEvent(type, {seed: 1, envelope: 'none'})
      const errors = (await dataValidator(type))(event.envelope)
      if (errors.length > 0)
        notes.push(`${type.name}: generated data does not fit its schema (${errors[0]}); add recipe hints`)
    } catch (err) {
      notes.push(`${type.name}: ${(err as Error).message}`)
    }
  }
  return notes
}

export function projectYaml(
  name: string,
  {origin, envelope = 'standard'}: {origin?: string; envelope?: 'standard' | 'none' | 'cloudevents'} = {},
): string {
  return `# evt project file: evt finds it by walking up from the current folder. Reference: docs/workspace.md
${origin ? `# ${origin}\n` : ''}name: ${JSON.stringify(name)}
# Folders of event type files (one YAML per type: docs/publish.md)
events: [events]
# RabbitMQ definitions files, or folders of them (the management UI's export format: docs/provision.md)
topology: [topology]
# Folders of your own scenarios (the built-in ones are always there: docs/scenarios.md)
scenarios: [scenarios]
# The seed systems shipped with evt: [builtin] for all of them, or e.g. [builtin/tutorgo]
include: []
# Defaults for \`evt publish\` (flags override them). envelope: standard (evt's), cloudevents, or none (the
# bodies as the schemas describe them: what an AsyncAPI document describes)
publish:
  envelope: ${envelope}
  # tenant: tenant_acme
  # source: my-service
`
}

/** Where a created path is shown from. */
export function shownPath(result: InitResult, cwd = process.cwd()): string {
  const rel = relative(cwd, result.dir)
  return rel === '' ? '.' : rel.startsWith('..') ? result.dir : rel
}
