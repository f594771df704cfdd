import type {Definitions} from './definitions.js'
import type {Obj} from './model.js'

/**
 * What a definitions file relies on that a RabbitMQ version removed or denies, and what RabbitMQ's import
 * silently ignores. Pure: the version and the broker's capabilities come in as data, so `--target-version`
 * lints for a broker that is not running.
 */
export interface LintFinding {
  /** JSON path, e.g. `$.queues[3].arguments.x-queue-mode`. */
  path: string
  message: string
  /** `error`: the broker would refuse it (always stops the run); `warning`: stops it only under --strict. */
  severity: 'error' | 'warning'
}

export interface LintTarget {
  /** e.g. "3.10.8" or "4.0". */
  version: string
  /** Exchange types the broker offers (plugins included); unknown when linting for a version not running. */
  exchangeTypes?: string[]
  /** Enabled applications (plugins) of the node; unknown when not running. */
  plugins?: string[]
}

export function parseVersion(v: string): number[] {
  return v
    .split(/[.+-]/)
    .slice(0, 3)
    .map((p) => Number.parseInt(p, 10) || 0)
}

export function atLeast(version: string, min: string): boolean {
  const a = parseVersion(version)
  const b = parseVersion(min)
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0)
  return true
}

const BUILTIN_EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers']
/** Runtime parameter components that need a plugin. */
const COMPONENT_PLUGINS: Record<string, string> = {
  'federation-upstream': 'rabbitmq_federation',
  'federation-upstream-set': 'rabbitmq_federation',
  shovel: 'rabbitmq_shovel',
}

/** Policy targets by queue type, added in RabbitMQ 3.12. */
const QUEUE_TYPE_APPLY_TO = ['classic_queues', 'quorum_queues', 'streams']

function queueArgs(q: Obj): Obj {
  return (q.arguments as Obj | undefined) ?? {}
}

/** Findings for `defs` on `target`. Paths index the merged definitions. */
export function lintDefinitions(defs: Definitions, target: LintTarget): LintFinding[] {
  const out: LintFinding[] = []
  const v = target.version
  const add = (path: string, message: string, severity: LintFinding['severity'] = 'warning') =>
    out.push({path, message, severity})

  defs.vhosts.forEach((vh, i) => {
    if (vh.default_queue_type !== undefined) {
      add(
        `$.vhosts[${i}].default_queue_type`,
        `vhost ${vh.name}: RabbitMQ's import ignores a top-level default_queue_type; put it under metadata`,
      )
    }
    const limits = vh.limits
    if (limits && typeof limits === 'object' && Object.keys(limits).length > 0) {
      add(
        `$.vhosts[${i}].limits`,
        `vhost ${vh.name}: RabbitMQ's import ignores vhosts[].limits; use a "vhost-limits" parameter`,
      )
    }
  })

  defs.queues.forEach((q, i) => {
    const args = queueArgs(q as unknown as Obj)
    const at = `$.queues[${i}]`
    const label = `queue ${q.vhost}/${q.name}`
    const top = (q as unknown as Obj).type
    const type = String(args['x-queue-type'] ?? 'classic')
    if (typeof top === 'string' && top !== type) {
      add(
        `${at}.type`,
        `${label}: RabbitMQ's import ignores the top-level type "${top}" and declares a ${type} queue (set arguments.x-queue-type)`,
      )
    }
    if (atLeast(v, '4.3')) {
      if ('x-queue-mode' in args) add(`${at}.arguments.x-queue-mode`, `${label}: x-queue-mode is removed in ${v}`)
      if (Number(args['x-queue-version']) === 1) {
        add(`${at}.arguments.x-queue-version`, `${label}: classic queue version 1 is removed in ${v}`)
      }
      if (type === 'classic' && q.durable === false) {
        add(`${at}.durable`, `${label}: transient non-exclusive queues are denied by default in ${v}`)
      }
    }
  })

  const policyFindings = (definition: Obj, at: string, label: string) => {
    for (const key of Object.keys(definition)) {
      if (key.startsWith('ha-') && atLeast(v, '4.0')) {
        add(`${at}.${key}`, `${label}: classic queue mirroring (${key}) is removed in ${v}`)
      }
      if (atLeast(v, '4.3') && (key === 'queue-mode' || (key === 'queue-version' && Number(definition[key]) === 1))) {
        add(`${at}.${key}`, `${label}: ${key} ${key === 'queue-mode' ? '' : '1 '}is removed in ${v}`)
      }
    }
  }
  const applyTo = (value: unknown, at: string, label: string) => {
    if (typeof value === 'string' && QUEUE_TYPE_APPLY_TO.includes(value) && !atLeast(v, '3.12')) {
      add(
        at,
        `${label}: apply-to "${value}" needs RabbitMQ 3.12 or later (${v} accepts queues, exchanges, all)`,
        'error',
      )
    }
  }
  defs.policies.forEach((p, i) => {
    policyFindings(p.definition, `$.policies[${i}].definition`, `policy ${p.vhost}/${p.name}`)
    applyTo(p['apply-to'], `$.policies[${i}].apply-to`, `policy ${p.vhost}/${p.name}`)
  })
  defs.parameters.forEach((p, i) => {
    const at = `$.parameters[${i}]`
    const label = `parameter ${p.vhost}/${p.component}/${p.name}`
    if (p.component === 'operator_policy') {
      const value = (p.value as Obj | undefined) ?? {}
      policyFindings((value.definition as Obj | undefined) ?? {}, `${at}.value.definition`, label)
      applyTo(value['apply-to'], `${at}.value.apply-to`, label)
    }
    const plugin = COMPONENT_PLUGINS[p.component]
    if (plugin && target.plugins && !target.plugins.includes(plugin)) {
      add(`${at}.component`, `${label}: needs the ${plugin} plugin, which is not enabled on the broker`, 'error')
    }
  })

  if (target.exchangeTypes) {
    const types = new Set([...BUILTIN_EXCHANGE_TYPES, ...target.exchangeTypes])
    defs.exchanges.forEach((x, i) => {
      if (x.name.startsWith('amq.') || x.name === '') return
      if (!types.has(x.type)) {
        add(
          `$.exchanges[${i}].type`,
          `exchange ${x.vhost}/${x.name}: the broker has no exchange type "${x.type}" (enable its plugin)`,
          'error',
        )
      }
    })
  }
  return out
}
