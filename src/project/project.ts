import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {basename, dirname, isAbsolute, join, relative, resolve} from 'node:path'
import type {ErrorObject, ValidateFunction} from 'ajv'
import {UsageError} from '../errors.js'
import {parseYaml} from '../util/yaml.js'
import {builtinEventsDir, builtinSystems, builtinTopologyDir} from './paths.js'
import {PROJECT_FILE_NAMES, PROJECT_SCHEMA} from './schema.js'

export interface ProjectBrokerDefaults {
  name?: string
  runtime?: 'auto' | 'local' | 'container' | 'external'
  image?: string
}

export interface ProjectPublishDefaults {
  tenant?: string
  source?: string
  envelope?: 'standard' | 'none' | 'cloudevents'
}

/** What a project gives the other modules: where its catalogue, topology and scenarios are, and its defaults. */
export interface Project {
  /** The project file (evt.yaml); undefined when none was found and the seed systems are the catalogue. */
  file?: string
  /** The folder of the project file (the current folder without one). */
  root: string
  name: string
  /** Folders of event type files: the project's, then the included seed systems'. */
  eventDirs: string[]
  /** RabbitMQ definitions files, in order. */
  topologyFiles: string[]
  /** Folders of the project's own scenarios (the built-in scenarios always come too). */
  scenarioDirs: string[]
  /** The seed systems included (all four without a project file). */
  builtinSystems: string[]
  broker: ProjectBrokerDefaults
  publish: ProjectPublishDefaults
}

interface ProjectFile {
  name?: string
  include?: string[]
  events?: string[]
  topology?: string[]
  scenarios?: string[]
  broker?: ProjectBrokerDefaults
  publish?: ProjectPublishDefaults
}

const cache = new Map<string, Project>()

/** Forget loaded projects (tests that write project files). */
export function clearProjectCache(): void {
  cache.clear()
}

/**
 * The project of `cwd`: the nearest evt.yaml walking up from it (or the file/folder EVT_PROJECT names), else
 * the built-in seed systems. A wrong project file is exit 2 naming the file and the key.
 */
export function loadProject(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): Project {
  const key = `${cwd}\0${env.EVT_PROJECT ?? ''}`
  let project = cache.get(key)
  if (!project) {
    const file = findProjectFile(cwd, env)
    project = file ? readProject(file) : builtinProject(cwd)
    cache.set(key, project)
  }
  return project
}

/** The nearest project file from `cwd` upwards, or the one EVT_PROJECT names. */
export function findProjectFile(cwd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.EVT_PROJECT) {
    const given = resolve(cwd, env.EVT_PROJECT)
    if (existsSync(given) && statSync(given).isDirectory()) {
      const inside = PROJECT_FILE_NAMES.map((n) => join(given, n)).find((p) => existsSync(p))
      if (inside) return inside
      throw new UsageError(`EVT_PROJECT: no ${PROJECT_FILE_NAMES[0]} in ${given}`, 'Create one with `evt init`')
    }
    if (!existsSync(given)) throw new UsageError(`EVT_PROJECT: no such file ${given}`, 'Point it at an evt.yaml')
    return given
  }
  let dir = resolve(cwd)
  for (;;) {
    for (const name of PROJECT_FILE_NAMES) {
      const candidate = join(dir, name)
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
    }
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

function builtinProject(cwd: string): Project {
  const systems = builtinSystems()
  return {
    root: resolve(cwd),
    name: 'evt seed systems',
    eventDirs: [builtinEventsDir()],
    topologyFiles: builtinTopology(systems),
    scenarioDirs: [],
    builtinSystems: systems,
    broker: {},
    publish: {},
  }
}

function builtinTopology(systems: string[]): string[] {
  const dir = builtinTopologyDir()
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json') && systems.includes(n.slice(0, -5)))
    .sort()
    .map((n) => join(dir, n))
}

const HINT = 'See docs/workspace.md for the project file'

function readProject(file: string): Project {
  const shown = displayPath(file)
  let raw: unknown
  try {
    const text = readFileSync(file, 'utf8')
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    throw new UsageError(`${shown}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${firstLine(err)}`, HINT)
  }
  if (raw === null || raw === undefined) raw = {}
  const validate = projectValidator()
  if (!validate(raw)) {
    const e = (validate.errors ?? [])[0]
    throw new UsageError(`${shown}: ${e ? describeError(e) : 'invalid'}`, HINT)
  }
  const data = raw as ProjectFile
  const root = dirname(file)
  const wanted = new Set<string>()
  const known = builtinSystems()
  ;(data.include ?? []).forEach((entry, i) => {
    if (entry === 'builtin') for (const s of known) wanted.add(s)
    else {
      const system = entry.slice('builtin/'.length)
      if (!known.includes(system))
        throw new UsageError(`${shown}: include[${i}]: no built-in system "${system}"`, `Built-in: ${known.join(', ')}`)
      wanted.add(system)
    }
  })
  const systems = known.filter((s) => wanted.has(s))
  const eventDirs = (data.events ?? []).map((p, i) => existing(root, p, `events[${i}]`, shown, 'folder'))
  const topologyFiles = (data.topology ?? []).flatMap((p, i) => {
    const path = existing(root, p, `topology[${i}]`, shown, 'any')
    if (!statSync(path).isDirectory()) return [path]
    return readdirSync(path)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => join(path, n))
  })
  const scenarioDirs = (data.scenarios ?? []).map((p, i) => existing(root, p, `scenarios[${i}]`, shown, 'folder'))
  return {
    file,
    root,
    name: data.name ?? basename(root),
    eventDirs: [...eventDirs, ...systems.map((s) => join(builtinEventsDir(), s))],
    topologyFiles: [...topologyFiles, ...builtinTopology(systems)],
    scenarioDirs,
    builtinSystems: systems,
    broker: data.broker ?? {},
    publish: data.publish ?? {},
  }
}

function existing(root: string, path: string, key: string, shown: string, kind: 'folder' | 'any'): string {
  const full = isAbsolute(path) ? path : join(root, path)
  if (!existsSync(full))
    throw new UsageError(`${shown}: ${key}: no such ${kind === 'folder' ? 'folder' : 'file'} ${path}`, HINT)
  if (kind === 'folder' && !statSync(full).isDirectory())
    throw new UsageError(`${shown}: ${key}: ${path} is not a folder`, HINT)
  return full
}

function describeError(e: ErrorObject): string {
  const key = e.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '')
  if (e.keyword === 'additionalProperties') {
    const extra = String(e.params.additionalProperty)
    return `${key ? `${key}.` : ''}${extra}: unknown key`
  }
  if (e.keyword === 'enum') return `${key}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`
  if (e.keyword === 'pattern' && key.startsWith('include')) return `${key}: must be "builtin" or "builtin/<system>"`
  return `${key || '(top level)'}: ${e.message}`
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel && !rel.startsWith('..') ? rel : file
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0] ?? ''
}

const require = createRequire(import.meta.url)
let validator: ValidateFunction | undefined
function projectValidator(): ValidateFunction {
  if (!validator) {
    // Synchronous on purpose: the catalogue is loaded synchronously. ajv is CommonJS.
    const {Ajv} = require('ajv') as typeof import('ajv')
    validator = new Ajv({allErrors: false}).compile(PROJECT_SCHEMA)
  }
  return validator
}

/**
 * evt.yaml `broker:` defaults for flags (name, runtime, image). A broken project file gives none here: the
 * commands that read the catalogue report it, and `evt down` or `evt init --force` still work.
 */
export function projectBrokerDefaults(cwd: string = process.cwd()): ProjectBrokerDefaults {
  try {
    return loadProject(cwd).broker
  } catch {
    return {}
  }
}
