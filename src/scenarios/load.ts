import {readdir, readFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {UsageError} from '../errors.js'
import {closest} from '../report/did-you-mean.js'
import {CODE_STEP_NAMES} from './steps/names.js'
import {paramRefs} from './template.js'
import {
  ACTIONS,
  type Action,
  type BrokerPower,
  COMPARATORS,
  type ParamValue,
  type ScenarioDefinition,
  type ScenarioListing,
  type Step,
} from './types.js'

/** fixtures/scenarios next to dist/ (or src/ under tsx and vitest). */
export const BUILTIN_DIR = fileURLToPath(new URL('../../fixtures/scenarios/', import.meta.url))

/** The keys each action's spec may hold; anything else is a typo the user should hear about. */
const SPEC_KEYS: Partial<Record<Action, readonly string[]>> = {
  declare: ['exchanges', 'queues', 'bindings'],
  publish: [
    'exchange',
    'routingKey',
    'routingKeys',
    'count',
    'persistent',
    'mandatory',
    'confirm',
    'window',
    'expiration',
    'headers',
    'body',
    'idPrefix',
  ],
  consume: [
    'queue',
    'queues',
    'consumers',
    'prefetch',
    'ack',
    'slowConsumer',
    'slowDelayMs',
    'count',
    'idleMs',
    'timeoutMs',
  ],
  get: ['queue', 'queues', 'max'],
  'check-queue': ['queue', 'queues'],
  wait: ['ms'],
  'restart-broker': [],
  'kill-broker': [],
}
const STEP_KEYS = ['as', 'when', 'captureError', 'with']
const CHECK_KEYS = ['check', 'observed', 'expected', 'when', ...COMPARATORS]
const TOP_KEYS = ['name', 'summary', 'seeds', 'typicalSeconds', 'requires', 'params', 'steps', 'compare']

class FileError extends UsageError {
  constructor(file: string, path: string, reason: string) {
    super(
      `${file}: ${path ? `${path}: ` : ''}${reason}`,
      'See docs/scenarios.md for the file format and the step vocabulary',
    )
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Parse and check a scenario file's text. Every problem names the file, the path in it, and the reason. */
export async function parseScenario(text: string, file: string): Promise<ScenarioDefinition> {
  const YAML = await import('yaml')
  const doc = YAML.parseDocument(text)
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const line = e.linePos?.[0]
    throw new FileError(
      file,
      line ? `line ${line.line}, column ${line.col}` : '',
      `invalid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
    )
  }
  const raw = doc.toJS() as unknown
  if (!isObject(raw)) throw new FileError(file, '', 'expected a mapping with name, summary, params and steps')
  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.includes(key)) throw new FileError(file, key, `unknown key (allowed: ${TOP_KEYS.join(', ')})`)
  }
  if (typeof raw.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(raw.name)) {
    throw new FileError(file, 'name', 'a lower-case name (letters, digits, -) is required')
  }
  if (typeof raw.summary !== 'string' || raw.summary.trim() === '')
    throw new FileError(file, 'summary', 'say in one sentence what the scenario proves')
  const params: Record<string, ParamValue> = {}
  if (raw.params !== undefined) {
    if (!isObject(raw.params)) throw new FileError(file, 'params', 'expected a mapping of name: default')
    for (const [k, v] of Object.entries(raw.params)) {
      if (!['string', 'number', 'boolean'].includes(typeof v))
        throw new FileError(file, `params.${k}`, 'a default must be a string, number or boolean')
      params[k] = v as ParamValue
    }
  }
  const requires = raw.requires ?? []
  if (!Array.isArray(requires) || requires.some((r) => r !== 'restart' && r !== 'kill'))
    throw new FileError(file, 'requires', 'a list of: restart, kill')
  if (!Array.isArray(raw.steps) || raw.steps.length === 0)
    throw new FileError(file, 'steps', 'a list of steps is required')
  const steps = raw.steps.map((s, i) => parseStep(s, `steps[${i}]`, file))
  for (const ref of paramRefs([raw.steps, params])) {
    if (!(ref in params)) throw new FileError(file, 'steps', `\${params.${ref}} is used but params has no "${ref}"`)
  }
  return {
    name: raw.name,
    summary: raw.summary.trim(),
    seeds: Array.isArray(raw.seeds) ? raw.seeds.map(String) : [],
    typicalSeconds: typeof raw.typicalSeconds === 'number' ? raw.typicalSeconds : 0,
    requires: requires as BrokerPower[],
    params,
    steps,
    compare: typeof raw.compare === 'string' ? raw.compare : undefined,
    file,
  }
}

function parseStep(raw: unknown, path: string, file: string): Step {
  if (!isObject(raw)) throw new FileError(file, path, `a step is a mapping with one of: ${ACTIONS.join(', ')}`)
  const actions = Object.keys(raw).filter((k) => (ACTIONS as readonly string[]).includes(k)) as Action[]
  const unknown = Object.keys(raw).filter((k) => !(ACTIONS as readonly string[]).includes(k) && !STEP_KEYS.includes(k))
  if (unknown.length > 0)
    throw new FileError(file, `${path}.${unknown[0]}`, `unknown step "${unknown[0]}" (steps: ${ACTIONS.join(', ')})`)
  if (actions.length !== 1)
    throw new FileError(file, path, `a step has exactly one action (found ${actions.join(', ') || 'none'})`)
  const action = actions[0]
  const spec = raw[action]
  const allowed = SPEC_KEYS[action]
  if (allowed && isObject(spec)) {
    for (const key of Object.keys(spec)) {
      if (!allowed.includes(key))
        throw new FileError(file, `${path}.${action}.${key}`, `unknown key (allowed: ${allowed.join(', ') || 'none'})`)
    }
  }
  if (action === 'run' && (typeof spec !== 'string' || !CODE_STEP_NAMES.includes(spec)))
    throw new FileError(
      file,
      `${path}.run`,
      `unknown code step "${String(spec)}" (known: ${CODE_STEP_NAMES.join(', ')})`,
    )
  if (action === 'expect') {
    if (!Array.isArray(spec)) throw new FileError(file, `${path}.expect`, 'a list of checks')
    spec.forEach((c, j) => {
      const where = `${path}.expect[${j}]`
      if (!isObject(c) || typeof c.check !== 'string') throw new FileError(file, where, 'a check needs a "check" text')
      const extra = Object.keys(c).find((k) => !CHECK_KEYS.includes(k))
      if (extra) throw new FileError(file, `${where}.${extra}`, `unknown key (allowed: ${CHECK_KEYS.join(', ')})`)
      if (!('observed' in c)) throw new FileError(file, where, 'a check needs "observed"')
      if (COMPARATORS.filter((k) => k in c).length !== 1)
        throw new FileError(file, where, `a check needs exactly one of: ${COMPARATORS.join(', ')}`)
    })
  }
  if (action === 'declare' && !isObject(spec)) throw new FileError(file, `${path}.declare`, 'a mapping')
  if (raw.with !== undefined && (action !== 'run' || !isObject(raw.with)))
    throw new FileError(file, `${path}.with`, '"with" holds the arguments of a run step')
  if (raw.as !== undefined && (typeof raw.as !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.as)))
    throw new FileError(file, `${path}.as`, 'a name made of letters, digits and _')
  return {
    action,
    spec,
    as: raw.as as string | undefined,
    when: raw.when,
    captureError: raw.captureError === true,
    with: raw.with as Record<string, unknown> | undefined,
    path,
  }
}

export async function loadScenarioFile(file: string): Promise<ScenarioDefinition> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, 'Check the path given to --file')
  }
  return parseScenario(text, file)
}

/** Every built-in scenario, in a stable order. */
export async function loadBuiltinScenarios(dir = BUILTIN_DIR): Promise<ScenarioDefinition[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()
  const all = await Promise.all(files.map((f) => loadScenarioFile(join(dir, f))))
  return all.sort((a, b) => BUILTIN_ORDER.indexOf(a.name) - BUILTIN_ORDER.indexOf(b.name))
}

const BUILTIN_ORDER = [
  'load-balanced',
  'fanout',
  'routing',
  'confirms',
  'rpc',
  'nack-requeue',
  'ttl',
  'permissions',
  'topology',
  'durability',
]

export function listScenarios(defs: ScenarioDefinition[]): ScenarioListing[] {
  return defs.map((d) => ({
    name: d.name,
    summary: d.summary,
    typicalSeconds: d.typicalSeconds,
    seeds: d.seeds,
    requires: d.requires,
    file: basename(d.file),
  }))
}

/** Pick scenarios by name; an unknown name is exit 2 with the closest names. */
export function selectScenarios(all: ScenarioDefinition[], names: string[]): ScenarioDefinition[] {
  return names.map((name) => {
    const found = all.find((d) => d.name === name)
    if (found) return found
    const close = closest(name, all, (d) => d.name).map((d) => d.name)
    throw new UsageError(
      `unknown scenario "${name}"`,
      close.length > 0
        ? `Did you mean ${close.join(', ')}? \`evt scenario --list\` shows them all`
        : `Known: ${all.map((d) => d.name).join(', ')}`,
    )
  })
}

/** --param k=v and the knob flags, typed like the scenario's default (a number stays a number). */
export function applyParams(
  def: ScenarioDefinition,
  overrides: Record<string, string | number | boolean>,
): Record<string, ParamValue> {
  const params = {...def.params}
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in params)) continue
    const current = params[key]
    if (typeof current === 'number') {
      const n = Number(value)
      if (!Number.isFinite(n)) throw new UsageError(`parameter ${key} of ${def.name} must be a number (got "${value}")`)
      params[key] = n
    } else if (typeof current === 'boolean') {
      params[key] = typeof value === 'boolean' ? value : !['false', '0', 'no', 'off'].includes(String(value))
    } else if (current.includes('${') && typeof value === 'string') {
      // A default computed from another parameter has no type of its own: take the value's.
      params[key] = /^-?\d+(\.\d+)?$/.test(value)
        ? Number(value)
        : value === 'true' || value === 'false'
          ? value === 'true'
          : value
    } else params[key] = typeof current === 'string' && current.includes('${') ? value : String(value)
  }
  return params
}
