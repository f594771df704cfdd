import {readdir, readFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {UsageError} from '../errors.js'
import {builtinScenariosDir} from '../project/paths.js'
import {loadProject} from '../project/project.js'
import {closest} from '../util/did-you-mean.js'
import {CLUSTER_STEP_NAMES, CODE_STEP_NAMES} from './steps/names.js'
import {paramRefs} from './template.js'
import {
  ACTIONS,
  type Action,
  type BrokerPower,
  COMPARATORS,
  type Negative,
  type ParamValue,
  type ScenarioDefinition,
  type ScenarioListing,
  type Step,
} from './types.js'
import {validRange} from './version.js'

/** fixtures/scenarios next to dist/ (or src/ under tsx and vitest). */
export const BUILTIN_DIR = builtinScenariosDir()

type Kind = 'text' | 'number' | 'bool' | 'mapping' | 'list' | 'textOrList' | 'body' | 'confirm' | 'any'

/** The keys each action's spec may hold and what each must be; anything else is a typo the user should hear about. */
const SPEC_KEYS: Partial<Record<Action, Record<string, Kind>>> = {
  declare: {exchanges: 'list', queues: 'list', bindings: 'list'},
  publish: {
    exchange: 'text',
    routingKey: 'textOrList',
    routingKeys: 'textOrList',
    count: 'number',
    persistent: 'bool',
    mandatory: 'bool',
    confirm: 'confirm',
    window: 'number',
    expiration: 'text',
    headers: 'mapping',
    properties: 'mapping',
    body: 'body',
    bodyBase64: 'text',
    idPrefix: 'text',
  },
  consume: {
    queue: 'text',
    queues: 'textOrList',
    consumers: 'number',
    prefetch: 'number',
    ack: 'text',
    workMs: 'any',
    crash: 'mapping',
    exclusive: 'bool',
    arguments: 'mapping',
    slowConsumer: 'number',
    slowDelayMs: 'number',
    count: 'number',
    deliveries: 'number',
    idleMs: 'number',
    timeoutMs: 'number',
    subscribe: 'text',
    publish: 'mapping',
  },
  get: {queue: 'text', queues: 'textOrList', max: 'number'},
  'check-queue': {queue: 'text', queues: 'textOrList'},
  serve: {
    queue: 'text',
    declare: 'bool',
    echoCorrelation: 'bool',
    echoBody: 'bool',
    strayReplies: 'number',
    workMs: 'number',
  },
  request: {
    queue: 'text',
    exchange: 'text',
    routingKey: 'text',
    count: 'number',
    replyTo: 'text',
    timeoutMs: 'number',
  },
  wait: {ms: 'number'},
  'restart-broker': {how: 'text'},
  'kill-broker': {},
}
const STEP_KEYS = ['as', 'when', 'captureError', 'with', 'within', 'refresh']
const CHECK_KEYS = ['check', 'observed', 'expected', 'when', 'skipWhen', 'because', ...COMPARATORS]
const TOP_KEYS = ['name', 'summary', 'seeds', 'typicalSeconds', 'requires', 'params', 'steps', 'compare', 'negatives']
const NEGATIVE_KEYS = ['because', 'params', 'fails', 'mayAlsoFail']

const RESTARTS = ['restart', 'kill']

/** The broker powers a step needs (any one of them), if it restarts, kills or faults the broker. */
function powerNeeded(step: Step): string[] | undefined {
  if (step.action === 'restart-broker' || step.action === 'kill-broker') return RESTARTS
  if (step.action !== 'run') return undefined
  if (step.spec === 'publish-through-kill') return RESTARTS
  if (CLUSTER_STEP_NAMES.includes(String(step.spec))) return ['cluster']
  return undefined
}

/** Whether a literal value fits its kind; a ${...} template is checked when it is resolved. */
function fits(kind: Kind, v: unknown): string | undefined {
  if (typeof v === 'string' && v.includes('${')) return undefined
  switch (kind) {
    case 'text':
      return typeof v === 'string' || typeof v === 'number' ? undefined : 'expected text'
    case 'number':
      return typeof v === 'number' ? undefined : `expected a number (got ${JSON.stringify(v)})`
    case 'bool':
      return typeof v === 'boolean' ? undefined : `expected true or false (got ${JSON.stringify(v)})`
    case 'mapping':
      return isObject(v) ? undefined : 'expected a mapping'
    case 'list':
      return Array.isArray(v) ? undefined : 'expected a list'
    case 'textOrList':
      return typeof v === 'string' || Array.isArray(v) ? undefined : 'expected text or a list'
    case 'confirm':
      return typeof v === 'boolean' || v === 'each' ? undefined : 'expected true, false or each'
    case 'body':
      return v === null ? 'a body cannot be null (omit it, or give text, a mapping or bodyBase64)' : undefined
    default:
      return undefined
  }
}

/** A problem in a scenario file: the file, the line (when known), the path in the file and the reason. */
export class ScenarioFileError extends UsageError {
  constructor(
    readonly file: string,
    readonly path: (string | number)[],
    readonly reason: string,
    readonly line?: number,
  ) {
    super(
      `${file}${line ? `:${line}` : ''}: ${path.length > 0 ? `${showPath(path)}: ` : ''}${reason}`,
      'See docs/scenarios.md for the file format and the step vocabulary',
    )
  }
}

function showPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

class FileError extends Error {
  constructor(
    readonly path: (string | number)[],
    readonly reason: string,
  ) {
    super(reason)
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Parse and check a scenario file's text, whole. Every problem names the file, the line, the path in it and the reason. */
export async function parseScenario(text: string, file: string): Promise<ScenarioDefinition> {
  const YAML = await import('yaml')
  const lineCounter = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, {lineCounter})
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    throw new ScenarioFileError(
      file,
      [],
      `invalid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
      e.linePos?.[0]?.line,
    )
  }
  let raw: unknown
  try {
    // yaml refuses documents whose aliases expand without bound (a "billion laughs" file): exit 2, naming it.
    raw = doc.toJS({maxAliasCount: 100})
  } catch (err) {
    throw new ScenarioFileError(file, [], `invalid YAML: ${String((err as Error).message).split('\n')[0]}`)
  }
  try {
    return checkScenario(raw, file)
  } catch (err) {
    if (!(err instanceof FileError)) throw err
    // The line of the deepest part of the path that is in the file.
    let line: number | undefined
    for (let n = err.path.length; n >= 0 && line === undefined; n--) {
      const node = doc.getIn(err.path.slice(0, n), true) as {range?: [number, number, number]} | undefined
      const key = n > 0 ? keyNode(doc, err.path.slice(0, n)) : undefined
      const offset = key?.range?.[0] ?? node?.range?.[0]
      if (offset !== undefined) line = lineCounter.linePos(offset).line
    }
    throw new ScenarioFileError(file, err.path, err.reason, line)
  }
}

/** The key node of a mapping entry (an unknown key has no value worth pointing at, its key is the line). */
function keyNode(
  doc: import('yaml').Document,
  path: (string | number)[],
): {range?: [number, number, number]} | undefined {
  const last = path[path.length - 1]
  if (typeof last !== 'string') return undefined
  const parent = doc.getIn(path.slice(0, -1), true) as {
    items?: {key?: {value?: unknown; range?: [number, number, number]}}[]
  }
  return parent?.items?.find((item) => item.key?.value === last)?.key
}

function checkScenario(raw: unknown, file: string): ScenarioDefinition {
  if (!isObject(raw)) throw new FileError([], 'expected a mapping with name, summary, params and steps')
  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.includes(key)) throw new FileError([key], `unknown key (allowed: ${TOP_KEYS.join(', ')})`)
  }
  if (typeof raw.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(raw.name)) {
    throw new FileError(['name'], 'a lower-case name (letters, digits, -) is required')
  }
  if (typeof raw.summary !== 'string' || raw.summary.trim() === '')
    throw new FileError(['summary'], 'say in one sentence what the scenario proves')
  const params: Record<string, ParamValue> = {}
  if (raw.params !== undefined) {
    if (!isObject(raw.params)) throw new FileError(['params'], 'expected a mapping of name: default')
    for (const [k, v] of Object.entries(raw.params)) {
      if (!['string', 'number', 'boolean'].includes(typeof v))
        throw new FileError(['params', k], 'a default must be a string, number or boolean')
      params[k] = v as ParamValue
    }
  }
  const requires = raw.requires ?? []
  if (!Array.isArray(requires) || requires.some((r) => !['restart', 'kill', 'cluster', 'partition'].includes(r)))
    throw new FileError(['requires'], 'a list of: restart, kill, cluster, partition')
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) throw new FileError(['steps'], 'a list of steps is required')
  const steps = raw.steps.map((s, i) => parseStep(s, i))
  const names = new Set<string>()
  for (const [i, step] of steps.entries()) {
    for (const name of step.refresh ?? []) {
      if (!names.has(name))
        throw new FileError(['steps', i, 'refresh'], `no earlier step is named "${name}" (its "as")`)
    }
    if (step.as) names.add(step.as)
  }
  for (const ref of paramRefs([raw.steps, params])) {
    if (!(ref in params)) throw new FileError(['steps'], `\${params.${ref}} is used but params has no "${ref}"`)
  }
  for (const [i, step] of steps.entries()) {
    const needs = powerNeeded(step)
    if (needs && !needs.some((p) => (requires as string[]).includes(p))) {
      const what = step.action === 'run' ? `run: ${String(step.spec)}` : step.action
      throw new FileError(
        ['steps', i],
        `${what} changes the broker: add \`requires: [${needs[0]}]\` at the top of the file (such a scenario runs alone, never beside others, and is skipped where evt cannot do it)`,
      )
    }
  }
  const negatives = checkNegatives(raw.negatives, params, writtenChecks(steps))
  return {
    name: raw.name,
    summary: raw.summary.trim(),
    seeds: Array.isArray(raw.seeds) ? raw.seeds.map(String) : [],
    typicalSeconds: typeof raw.typicalSeconds === 'number' ? raw.typicalSeconds : 0,
    requires: requires as BrokerPower[],
    params,
    steps,
    compare: typeof raw.compare === 'string' ? raw.compare : undefined,
    negatives,
    file,
  }
}

/** The names of a scenario's checks as written (a template stays a template). */
export function writtenChecks(steps: Step[]): string[] {
  return steps.flatMap((s) => (s.action === 'expect' ? (s.spec as {check: string}[]).map((c) => c.check) : []))
}

function checkNegatives(raw: unknown, params: Record<string, ParamValue>, checks: string[]): Negative[] {
  if (raw === undefined) return []
  if (!Array.isArray(raw)) throw new FileError(['negatives'], 'a list of {because, params, fails}')
  return raw.map((n, i) => {
    const path = ['negatives', i]
    if (!isObject(n)) throw new FileError(path, 'a mapping with because, params and fails')
    const extra = Object.keys(n).find((k) => !NEGATIVE_KEYS.includes(k))
    if (extra) throw new FileError([...path, extra], `unknown key (allowed: ${NEGATIVE_KEYS.join(', ')})`)
    if (typeof n.because !== 'string' || n.because.trim() === '')
      throw new FileError([...path, 'because'], 'say in a few words how this breaks the promise')
    if (!isObject(n.params) || Object.keys(n.params).length === 0)
      throw new FileError([...path, 'params'], 'the parameters that break the promise (a mapping)')
    for (const [k, v] of Object.entries(n.params)) {
      if (!(k in params)) {
        const close = closest(k, Object.keys(params), (p) => p)
        throw new FileError(
          [...path, 'params', k],
          `params has no "${k}"${close.length > 0 ? ` (did you mean ${close.join(', ')}?)` : ''}`,
        )
      }
      if (!['string', 'number', 'boolean'].includes(typeof v))
        throw new FileError([...path, 'params', k], 'a string, number or boolean')
    }
    const names = (key: 'fails' | 'mayAlsoFail'): string[] => {
      const list = n[key] ?? []
      if (!Array.isArray(list) || list.some((c) => typeof c !== 'string'))
        throw new FileError([...path, key], 'a list of check names, as written in the file')
      list.forEach((c: string, j) => {
        if (!checks.includes(c)) {
          const close = closest(c, checks, (x) => x)
          throw new FileError(
            [...path, key, j],
            `no check is named "${c}"${close.length > 0 ? ` (did you mean "${close[0]}"?)` : ''}`,
          )
        }
      })
      return list
    }
    const fails = names('fails')
    if (fails.length === 0) throw new FileError([...path, 'fails'], 'name at least one check that must fail')
    return {
      because: n.because.trim(),
      params: n.params as Record<string, ParamValue>,
      fails,
      mayAlsoFail: names('mayAlsoFail'),
    }
  })
}

function checkWhen(when: unknown, path: (string | number)[]): void {
  if (when === undefined || !isObject(when)) return
  const keys = Object.keys(when)
  if (keys.length !== 1 || keys[0] !== 'rabbitmq' || typeof when.rabbitmq !== 'string' || !validRange(when.rabbitmq))
    throw new FileError(
      [...path, 'when'],
      'a condition: a template that resolves true or false, or {rabbitmq: ">=4.3"} (a version range)',
    )
}

function checkSpecKeys(action: Action, spec: Record<string, unknown>, path: (string | number)[]): void {
  const allowed = SPEC_KEYS[action] ?? {}
  for (const [key, value] of Object.entries(spec)) {
    const kind = allowed[key]
    if (!kind)
      throw new FileError([...path, key], `unknown key (allowed: ${Object.keys(allowed).join(', ') || 'none'})`)
    const problem = fits(kind, value)
    if (problem) throw new FileError([...path, key], problem)
  }
  if (action === 'publish' && 'body' in spec && 'bodyBase64' in spec)
    throw new FileError(path, 'give body or bodyBase64, not both')
}

function parseStep(raw: unknown, i: number): Step {
  const path: (string | number)[] = ['steps', i]
  if (!isObject(raw)) throw new FileError(path, `a step is a mapping with one of: ${ACTIONS.join(', ')}`)
  const actions = Object.keys(raw).filter((k) => (ACTIONS as readonly string[]).includes(k)) as Action[]
  const unknown = Object.keys(raw).filter((k) => !(ACTIONS as readonly string[]).includes(k) && !STEP_KEYS.includes(k))
  if (unknown.length > 0)
    throw new FileError([...path, unknown[0]], `unknown step "${unknown[0]}" (steps: ${ACTIONS.join(', ')})`)
  if (actions.length !== 1)
    throw new FileError(path, `a step has exactly one action (found ${actions.join(', ') || 'none'})`)
  const action = actions[0]
  const spec = raw[action]
  const allowed = SPEC_KEYS[action]
  if (allowed && isObject(spec)) {
    checkSpecKeys(action, spec, [...path, action])
    // A consume's nested publish is a publish step's spec, checked as one.
    if (action === 'consume' && isObject(spec.publish))
      checkSpecKeys('publish', spec.publish, [...path, action, 'publish'])
  } else if (allowed && spec !== null && spec !== undefined && action !== 'wait' && typeof spec !== 'string')
    throw new FileError([...path, action], 'expected a mapping')
  if (action === 'run' && (typeof spec !== 'string' || !CODE_STEP_NAMES.includes(spec)))
    throw new FileError([...path, 'run'], `unknown code step "${String(spec)}" (known: ${CODE_STEP_NAMES.join(', ')})`)
  if (action === 'expect') {
    if (!Array.isArray(spec)) throw new FileError([...path, 'expect'], 'a list of checks')
    spec.forEach((c, j) => {
      const where = [...path, 'expect', j]
      if (!isObject(c) || typeof c.check !== 'string') throw new FileError(where, 'a check needs a "check" text')
      const extra = Object.keys(c).find((k) => !CHECK_KEYS.includes(k))
      if (extra) throw new FileError([...where, extra], `unknown key (allowed: ${CHECK_KEYS.join(', ')})`)
      if (!('observed' in c)) throw new FileError(where, 'a check needs "observed"')
      if (COMPARATORS.filter((k) => k in c).length !== 1)
        throw new FileError(where, `a check needs exactly one of: ${COMPARATORS.join(', ')}`)
      checkWhen(c.when, where)
    })
  } else if (raw.within !== undefined || raw.refresh !== undefined)
    throw new FileError([...path, raw.within !== undefined ? 'within' : 'refresh'], 'only an expect step polls')
  if (
    raw.within !== undefined &&
    !(typeof raw.within === 'number' && raw.within >= 0) &&
    !(typeof raw.within === 'string' && raw.within.includes('${'))
  )
    throw new FileError([...path, 'within'], 'milliseconds to keep looking: a number, or a template of a parameter')
  const refresh = raw.refresh === undefined ? undefined : Array.isArray(raw.refresh) ? raw.refresh : [raw.refresh]
  if (refresh?.some((r) => typeof r !== 'string'))
    throw new FileError([...path, 'refresh'], 'the "as" names of earlier steps to run again')
  checkWhen(raw.when, path)
  if (action === 'declare' && !isObject(spec)) throw new FileError([...path, 'declare'], 'a mapping')
  if (raw.with !== undefined && (action !== 'run' || !isObject(raw.with)))
    throw new FileError([...path, 'with'], '"with" holds the arguments of a run step')
  if (raw.as !== undefined && (typeof raw.as !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.as)))
    throw new FileError([...path, 'as'], 'a name made of letters, digits and _')
  return {
    action,
    spec,
    as: raw.as as string | undefined,
    when: raw.when,
    captureError: raw.captureError === true,
    with: raw.with as Record<string, unknown> | undefined,
    within: raw.within as number | string | undefined,
    refresh: refresh as string[] | undefined,
    path: `steps[${i}]`,
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

/**
 * Every built-in scenario, in a stable order; without `dir`, followed by the project's own (evt.yaml
 * `scenarios`; one of the same name replaces the built-in).
 */
export async function loadBuiltinScenarios(dir?: string): Promise<ScenarioDefinition[]> {
  const builtins = (await loadScenarioDir(dir ?? BUILTIN_DIR)).sort(
    (a, b) => BUILTIN_ORDER.indexOf(a.name) - BUILTIN_ORDER.indexOf(b.name),
  )
  if (dir !== undefined) return builtins
  const own = (await Promise.all(loadProject().scenarioDirs.map(loadScenarioDir))).flat()
  return [...builtins.filter((b) => !own.some((o) => o.name === b.name)), ...own]
}

async function loadScenarioDir(dir: string): Promise<ScenarioDefinition[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()
  return Promise.all(files.map((f) => loadScenarioFile(join(dir, f))))
}

const BUILTIN_ORDER = [
  'work-queue',
  'load-balanced',
  'fanout',
  'routing',
  'confirms',
  'rpc',
  'nack-requeue',
  'consumer-crash',
  'poison-message',
  'ttl',
  'permissions',
  'topology',
  'durability',
  'quorum-failover',
  'rolling-restart',
  'partition',
  'classic-node-loss',
]

export function listScenarios(defs: ScenarioDefinition[]): ScenarioListing[] {
  return defs.map((d) => ({
    name: d.name,
    summary: d.summary,
    typicalSeconds: d.typicalSeconds,
    seeds: d.seeds,
    requires: d.requires,
    file: basename(d.file),
    checks: writtenChecks(d.steps),
    negatives: d.negatives.length,
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
