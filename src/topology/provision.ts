import {UsageError} from '../errors.js'
import {ManagementClient} from '../management/client.js'
import {type ApplyContext, applyPlan, currentDefinitions, deleteObjects} from './apply.js'
import {type Definitions, readDefinitionsFiles} from './definitions.js'
import {type LintFinding, type LintTarget, lintDefinitions} from './lint.js'
import {loadTopology, referenceProblems} from './load.js'
import {
  countPlan,
  normalizeTags,
  type ObjectResult,
  type PlanCounts,
  type PlanItem,
  planLabel,
  type ResultAction,
  resultOf,
} from './model.js'
import {passwordEnvName, storePasswords} from './passwords.js'
import {planDefinitions} from './plan.js'
import {type QueueTypeChoice, toQuorumQueues} from './quorum.js'
import {type PlanPreview, planPreview} from './view/diff.js'

export type ObjectResultAction = ResultAction
export type ProvisionObjectResult = ObjectResult

export interface ProvisionResult {
  dryRun: boolean
  /** Whether anything on the broker changed (false on a repeated run). */
  changed: boolean
  counts: PlanCounts
  objects: ProvisionObjectResult[]
  /** The broker's RabbitMQ version. */
  brokerVersion?: string
  /** Version findings (removed or denied features, fields RabbitMQ's import ignores). */
  findings: LintFinding[]
  /** Users whose password this run generated: saved in passwordsFile (0600), never printed. */
  generatedPasswordsFor?: string[]
  passwordsFile?: string
  guest?: 'deleted' | 'absent' | 'would delete'
  warnings: string[]
  /** Dry run with `preview`: the plan laid over the broker's topology, for the diff tree. */
  preview?: PlanPreview
}

export interface ProvisionOptions {
  managementUrl: string
  /** Definitions files; default: the fixture. Ignored when `definitions` is given. */
  files?: string[]
  definitions?: Definitions
  /** Only objects of this vhost. */
  vhost?: string
  dryRun?: boolean
  /** With dryRun: also return the plan as marks on the topology (ProvisionResult.preview). */
  preview?: boolean
  force?: boolean
  /** Version warnings stop the run (exit 2) before anything is applied. */
  strict?: boolean
  /** Asked before --force deletes anything; resolve false to abort. */
  confirmForce?: (conflicts: PlanItem[]) => Promise<boolean>
  deleteGuest?: boolean
  /** The state folder (passwords.json). */
  home: string
  env?: NodeJS.ProcessEnv
  onProgress?: (done: number, total: number) => void
  /** quorum: the work queues become quorum queues (see toQuorumQueues). */
  queueType?: QueueTypeChoice
}

/** Only the objects of one vhost (and the users that have permissions in it). */
export function filterVhost(defs: Definitions, vhost: string): Definitions {
  const inVhost = <T extends {vhost: string}>(list: T[]) => list.filter((o) => o.vhost === vhost)
  const permissions = inVhost(defs.permissions)
  const topic = inVhost(defs.topic_permissions)
  const users = new Set([...permissions, ...topic].map((p) => p.user))
  return {
    ...defs,
    users: defs.users.filter((u) => users.has(u.name)),
    vhosts: defs.vhosts.filter((v) => v.name === vhost),
    permissions,
    topic_permissions: topic,
    parameters: inVhost(defs.parameters),
    global_parameters: [],
    policies: inVhost(defs.policies),
    exchanges: inVhost(defs.exchanges),
    queues: inVhost(defs.queues),
    bindings: inVhost(defs.bindings),
  }
}

/** Whether `guest` can go: only if another administrator exists now or after this run. */
export function guestDeletion(
  currentUsers: {name: string; tags?: string | string[]}[],
  desiredUsers: {name: string; tags?: string | string[]}[],
): {present: boolean; refuse: boolean; admins: string[]} {
  const users = new Map<string, string[]>()
  for (const u of [...currentUsers, ...desiredUsers]) users.set(u.name, normalizeTags(u.tags))
  const present = currentUsers.some((u) => u.name === 'guest')
  const admins = [...users].filter(([n, tags]) => n !== 'guest' && tags.includes('administrator')).map(([n]) => n)
  return {present, refuse: present && admins.length === 0, admins}
}

export function conflictError(conflicts: ProvisionObjectResult[]): UsageError {
  const lines = conflicts.map((c) => `${c.kind} ${c.name} exists with ${c.existing}; the file wants ${c.wanted}`)
  return new UsageError(
    `${conflicts.length} object(s) cannot be changed in place: ${lines.join('; ')}`,
    "RabbitMQ can't change an exchange's type or a queue's arguments (PRECONDITION_FAILED). Rerun with --force to delete and recreate them (a deleted queue loses its messages; --yes skips the prompt)",
    {conflicts},
  )
}

function findingsError(findings: LintFinding[], version: string, strict: boolean): UsageError {
  const shown = findings.slice(0, 10).map((f) => `${f.path}: ${f.message}`)
  const more = findings.length > shown.length ? ` (and ${findings.length - shown.length} more)` : ''
  return new UsageError(
    `the definitions rely on what RabbitMQ ${version} refuses or removed: ${shown.join('; ')}${more}`,
    strict
      ? 'Fix the file(s) or run without --strict to apply with warnings; nothing was applied'
      : 'Fix the file(s) or enable what they need; nothing was applied',
    {findings},
  )
}

/** What the running broker is and offers: version, exchange types, enabled plugins. */
export async function brokerTarget(api: ManagementClient): Promise<LintTarget> {
  const [overview, nodes] = await Promise.all([
    api.get<{rabbitmq_version: string; exchange_types?: {name: string}[]}>('/overview'),
    api.get<{applications?: {name: string}[]}[]>('/nodes').catch(() => []),
  ])
  const plugins = nodes.flatMap((n) => (n.applications ?? []).map((a) => a.name))
  return {
    version: overview.rabbitmq_version,
    exchangeTypes: (overview.exchange_types ?? []).map((t) => t.name),
    ...(plugins.length > 0 ? {plugins} : {}),
  }
}

/** Lint definitions files for a RabbitMQ version that is not running (`--target-version`). */
export async function lintFiles(options: {files?: string[]; version: string}): Promise<LintFinding[]> {
  const defs = await loadTopology(options.files, {references: false})
  return lintDefinitions(defs, {version: options.version})
}

/**
 * `evt provision`: make the broker hold the given definitions. Validates everything first, plans
 * desired vs current, refuses conflicts unless forced, then applies per object in dependency order
 * (vhosts, users, permissions, topic permissions, policies, exchanges, queues, bindings).
 */
export async function provision(options: ProvisionOptions): Promise<ProvisionResult> {
  const env = options.env ?? process.env
  const api = new ManagementClient(options.managementUrl, 15_000)
  const actingUser = api.username
  // The broker first: references resolve against the file(s) and the broker (partial files work).
  let current = await currentDefinitions(api)
  let defs: Definitions
  if (options.definitions) {
    defs = options.definitions
    const problems = referenceProblems(defs, current)
    if (problems.length > 0) {
      throw new UsageError(`invalid definitions: ${problems.slice(0, 10).join('; ')}`, 'Nothing was applied', {
        problems,
      })
    }
  } else defs = await loadTopology(options.files, {broker: current})
  if (options.vhost) {
    defs = filterVhost(defs, options.vhost)
    if (defs.vhosts.length === 0 && !current.vhosts.some((v) => v.name === options.vhost)) {
      throw new UsageError(
        `vhost "${options.vhost}" is not in the definitions`,
        'Leave out --vhost to apply every vhost',
      )
    }
  }
  const warnings: string[] = []
  if (options.queueType === 'quorum') {
    const rewrite = toQuorumQueues(defs)
    defs = rewrite.definitions
    for (const [id, why] of Object.entries(rewrite.kept)) warnings.push(`queue ${id} stays classic: ${why}`)
  }
  const target = await brokerTarget(api)
  const findings = lintDefinitions(defs, target)
  const stopping = findings.filter((f) => f.severity === 'error' || options.strict)
  if (stopping.length > 0 && !options.dryRun) throw findingsError(stopping, target.version, Boolean(options.strict))

  const planOptions = {actingUser, brokerVersion: target.version}
  let plan = planDefinitions(defs, current, planOptions)
  for (const item of plan) if (item.note) warnings.push(item.note)
  const conflicts = plan.filter((i) => i.action === 'conflict')
  if (conflicts.length > 0 && !options.force && !options.dryRun) {
    throw conflictError(conflicts.map((c) => resultOf(c)))
  }

  let guest: ProvisionResult['guest']
  if (options.deleteGuest) {
    const verdict = guestDeletion(current.users ?? [], defs.users)
    if (verdict.refuse) {
      throw new UsageError(
        'refusing to delete the guest user: no other administrator would remain',
        'Add a user with the administrator tag to your definitions first (the customers fixture has one)',
      )
    }
    guest = verdict.present ? (options.dryRun ? 'would delete' : 'deleted') : 'absent'
    if (verdict.present && actingUser === 'guest') {
      warnings.push(`this run acts as guest: after it, use another administrator (${verdict.admins.join(', ')})`)
    }
  }
  const base = {brokerVersion: target.version, findings, ...(guest ? {guest} : {}), warnings}

  if (options.dryRun) {
    const objects = plan.map((i) => resultOf(i, options.force && i.action === 'conflict' ? 'recreate' : i.action))
    const preview = options.preview ? {preview: planPreview(plan, current, {force: options.force})} : {}
    return {dryRun: true, changed: false, counts: countPlan(plan), objects, ...base, ...preview}
  }

  const recreated = new Map<string, string>()
  if (conflicts.length > 0) {
    if (options.confirmForce && !(await options.confirmForce(conflicts))) {
      throw new UsageError('aborted: nothing was deleted', 'Rerun with --force --yes to skip the question')
    }
    await deleteObjects(api, conflicts)
    for (const c of conflicts) recreated.set(`${c.section}|${c.key}`, `was ${c.existing}`)
    current = await currentDefinitions(api)
    plan = planDefinitions(defs, current, planOptions)
  }

  const ctx: ApplyContext = {
    api: new ManagementClient(options.managementUrl, 600_000),
    home: options.home,
    env,
    actingUser,
    generated: {},
    known: {},
  }
  const pending = (p: PlanItem[]) => p.filter((i) => i.action === 'create' || i.action === 'update')
  const todo = pending(plan)
  const replan = async () => pending(planDefinitions(defs, await currentDefinitions(api), planOptions))
  try {
    await applyPlan(todo, ctx, replan, options.onProgress)
  } finally {
    await storePasswords(options.home, api.baseUrl, ctx.known)
  }
  // The import reports success even for objects it drops (a binding whose ends vanished): check.
  const left = todo.length > 0 ? await replan() : []
  if (left.length > 0) {
    throw new UsageError(
      `the broker accepted the definitions but did not apply ${left.length} object(s): ${left
        .slice(0, 5)
        .map((i) => `${planLabel(i)} (${i.reason ?? 'missing'})`)
        .join('; ')}`,
      `${todo.length - left.length} of ${todo.length} object(s) were applied; check the broker log for why`,
      {objects: left.map((i) => resultOf(i))},
    )
  }

  if (guest === 'deleted') await api.delete('/users/guest')

  const objects = plan.map((i): ProvisionObjectResult => {
    const was = recreated.get(`${i.section}|${i.key}`)
    if (was) return {...resultOf(i, 'recreated'), reason: was}
    const done: Record<string, ResultAction> = {create: 'created', update: 'updated', skip: 'skipped'}
    return resultOf(i, done[i.action] ?? i.action)
  })
  const generated = Object.keys(ctx.generated).length > 0
  return {
    dryRun: false,
    changed: todo.length > 0 || recreated.size > 0 || guest === 'deleted',
    counts: countPlan(objects),
    objects,
    ...(generated ? {generatedPasswordsFor: Object.keys(ctx.generated).sort()} : {}),
    ...(Object.keys(ctx.known).length > 0 ? {passwordsFile: `${options.home}/passwords.json`} : {}),
    ...base,
  }
}

/** The broker's current definitions (all vhosts, or one vhost's objects and the users with access to it). */
export async function exportDefinitions(options: {managementUrl: string; vhost?: string}): Promise<Definitions> {
  const defs = await currentDefinitions(new ManagementClient(options.managementUrl, 60_000))
  if (options.vhost) {
    if (!defs.vhosts.some((v) => v.name === options.vhost)) {
      throw new UsageError(`vhost "${options.vhost}" does not exist on the broker`)
    }
    return filterVhost(defs, options.vhost)
  }
  return defs
}

export {passwordEnvName, readDefinitionsFiles}

export interface ProvisionSummary {
  vhosts: string[]
  created: number
  updated: number
  unchanged: number
  changed: boolean
  generatedPasswordsFor?: string[]
  passwordsFile?: string
}

/** The short form `evt up` reports. */
export function provisionSummary(result: ProvisionResult): ProvisionSummary {
  return {
    vhosts: result.objects.filter((o) => o.kind === 'vhost').map((o) => o.name),
    created: result.counts.created,
    updated: result.counts.updated,
    unchanged: result.counts.unchanged,
    changed: result.changed,
    ...(result.generatedPasswordsFor ? {generatedPasswordsFor: result.generatedPasswordsFor} : {}),
    ...(result.passwordsFile ? {passwordsFile: result.passwordsFile} : {}),
  }
}
