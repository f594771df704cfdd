import {EvtError, UsageError} from '../errors.js'
import {enc, ManagementClient, ManagementHttpError} from '../management/client.js'
import type {Definitions} from './definitions.js'
import {loadTopology, normalizeTags, SECTIONS, type Section} from './load.js'
import {passwordEnvName, passwordFor, storePasswords} from './passwords.js'
import {countPlan, normalizeArguments, type PlanCounts, type PlanItem, planDefinitions} from './plan.js'

export type ObjectResultAction =
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'recreated'
  | 'create'
  | 'update'
  | 'conflict'
  | 'recreate'

export interface ProvisionObjectResult {
  kind: string
  name: string
  action: ObjectResultAction
  reason?: string
  existing?: string
  wanted?: string
}

export interface ProvisionResult {
  dryRun: boolean
  /** Whether anything on the broker changed (false on a repeated run). */
  changed: boolean
  counts: PlanCounts
  objects: ProvisionObjectResult[]
  /** Passwords generated in this run, shown once; also saved in passwordsFile. */
  generatedPasswords?: Record<string, string>
  passwordsFile?: string
  guest?: 'deleted' | 'absent' | 'would delete'
  warnings: string[]
}

export interface ProvisionOptions {
  managementUrl: string
  /** Definitions files; default: the fixture. Ignored when `definitions` is given. */
  files?: string[]
  definitions?: Definitions
  /** Only objects of this vhost. */
  vhost?: string
  dryRun?: boolean
  force?: boolean
  /** Asked before --force deletes anything; resolve false to abort. */
  confirmForce?: (conflicts: PlanItem[]) => Promise<boolean>
  deleteGuest?: boolean
  /** The state folder (passwords.json). */
  home: string
  env?: NodeJS.ProcessEnv
  onProgress?: (done: number, total: number) => void
}

type Obj = Record<string, unknown>

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

/** The acting user needs access to every vhost it provisions (exchanges and queues are per-vhost resources). */
function withActingUserAccess(defs: Definitions, actingUser: string): Definitions {
  const extra = defs.vhosts
    .filter((v) => !defs.permissions.some((p) => p.vhost === v.name && p.user === actingUser))
    .map((v) => ({user: actingUser, vhost: v.name, configure: '.*', write: '.*', read: '.*'}))
  return {...defs, permissions: [...defs.permissions, ...extra]}
}

function resultOf(item: PlanItem): ProvisionObjectResult {
  const [kind] = item.label.split(' ', 1)
  return {
    kind,
    name: item.label.slice(kind.length + 1),
    action: item.action,
    ...(item.reason ? {reason: item.reason} : {}),
    ...(item.existing ? {existing: item.existing, wanted: item.wanted} : {}),
  }
}

export function conflictError(conflicts: ProvisionObjectResult[]): UsageError {
  const lines = conflicts.map((c) => `${c.kind} ${c.name} exists with ${c.existing}; the file wants ${c.wanted}`)
  return new UsageError(
    `${conflicts.length} object(s) cannot be changed in place: ${lines.join('; ')}`,
    "RabbitMQ can't change an exchange's type or a queue's arguments (PRECONDITION_FAILED). Rerun with --force to delete and recreate them (a deleted queue loses its messages; --yes skips the prompt)",
    {conflicts},
  )
}

function objectPath(section: Section, o: Obj): string {
  const v = enc(String(o.vhost))
  switch (section) {
    case 'vhosts':
      return `/vhosts/${enc(String(o.name))}`
    case 'users':
      return `/users/${enc(String(o.name))}`
    case 'permissions':
      return `/permissions/${v}/${enc(String(o.user))}`
    case 'topic_permissions':
      return `/topic-permissions/${v}/${enc(String(o.user))}`
    case 'policies':
      return `/policies/${v}/${enc(String(o.name))}`
    case 'exchanges':
      return `/exchanges/${v}/${enc(String(o.name))}`
    case 'queues':
      return `/queues/${v}/${enc(String(o.name))}`
    case 'bindings':
      return `/bindings/${v}/e/${enc(String(o.source))}/${o.destination_type === 'queue' ? 'q' : 'e'}/${enc(String(o.destination))}`
  }
}

interface ApplyContext {
  api: ManagementClient
  home: string
  env: NodeJS.ProcessEnv
  generated: Record<string, string>
  known: Record<string, string>
}

async function applyItem(item: PlanItem, ctx: ApplyContext): Promise<void> {
  const o = item.desired
  const path = objectPath(item.section, o)
  switch (item.section) {
    case 'vhosts':
      return void (await ctx.api.put(path, o.description === undefined ? {} : {description: o.description}))
    case 'users': {
      const tags = normalizeTags(o.tags as string[]).join(',')
      if (item.action === 'update') {
        const c = item.current ?? {}
        const hash = item.reason?.includes('password_hash') ? o : c
        return void (await ctx.api.put(path, {
          tags,
          password_hash: hash.password_hash ?? '',
          ...(hash.hashing_algorithm ? {hashing_algorithm: hash.hashing_algorithm} : {}),
        }))
      }
      if (typeof o.password_hash === 'string') {
        return void (await ctx.api.put(path, {
          tags,
          password_hash: o.password_hash,
          ...(o.hashing_algorithm ? {hashing_algorithm: o.hashing_algorithm} : {}),
        }))
      }
      const name = String(o.name)
      const pw = await passwordFor(name, {
        home: ctx.home,
        managementBaseUrl: ctx.api.baseUrl,
        env: ctx.env,
        envName: typeof o.password_env === 'string' ? o.password_env : undefined,
      })
      await ctx.api.put(path, {tags, password: pw.password})
      ctx.known[name] = pw.password
      if (pw.source === 'generated') ctx.generated[name] = pw.password
      return
    }
    case 'permissions':
      return void (await ctx.api.put(path, {configure: o.configure, write: o.write, read: o.read}))
    case 'topic_permissions':
      return void (await ctx.api.put(path, {exchange: o.exchange, write: o.write, read: o.read}))
    case 'policies':
      return void (await ctx.api.put(path, {
        pattern: o.pattern,
        definition: o.definition,
        priority: o.priority ?? 0,
        'apply-to': o['apply-to'] ?? 'all',
      }))
    case 'exchanges':
      return void (await ctx.api.put(path, {
        type: o.type,
        durable: o.durable ?? true,
        auto_delete: o.auto_delete ?? false,
        internal: o.internal ?? false,
        arguments: o.arguments ?? {},
      }))
    case 'queues':
      return void (await ctx.api.put(path, {
        durable: o.durable ?? true,
        auto_delete: o.auto_delete ?? false,
        arguments: normalizeArguments('queues', o.arguments, o.type),
      }))
    case 'bindings':
      return void (await ctx.api.post(path, {routing_key: o.routing_key ?? '', arguments: o.arguments ?? {}}))
  }
}

function applyFailure(item: PlanItem, err: unknown, appliedBefore: number): EvtError {
  if (err instanceof ManagementHttpError) {
    return new EvtError(`could not ${item.action} ${item.label}: ${err.reason} (HTTP ${err.status})`, {
      exitCode: err.status >= 400 && err.status < 500 ? 2 : 3,
      hint: `${appliedBefore} object(s) were applied before this one; fix the cause and rerun (provisioning is idempotent)`,
    })
  }
  return err instanceof EvtError ? err : new EvtError(String(err), {exitCode: 3})
}

/** Run `fn` over items with at most `limit` in flight, in order of start. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++])
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
}

/** GET /api/definitions, with vhost descriptions from /api/vhosts (3.10 leaves them out of definitions). */
async function currentDefinitions(api: ManagementClient): Promise<Definitions> {
  const [defs, vhosts] = await Promise.all([
    api.get<Definitions>('/definitions'),
    api.get<{name: string; description?: string}[]>('/vhosts'),
  ])
  for (const [section] of SECTIONS) (defs as unknown as Record<string, unknown[]>)[section] ??= []
  const described = new Map(vhosts.map((v) => [v.name, v.description]))
  defs.vhosts = defs.vhosts.map((v) => {
    const description = v.description ?? described.get(v.name)
    return description ? {...v, description} : v
  })
  return defs
}

/**
 * `evt provision`: make the broker hold the given definitions. Validates everything first, plans
 * desired vs current, refuses conflicts unless forced, then applies per object in dependency order
 * (vhosts, users, permissions, topic permissions, policies, exchanges, queues, bindings).
 */
export async function provision(options: ProvisionOptions): Promise<ProvisionResult> {
  const env = options.env ?? process.env
  let defs = options.definitions ?? (await loadTopology(options.files))
  if (options.vhost) {
    defs = filterVhost(defs, options.vhost)
    if (defs.vhosts.length === 0) {
      throw new UsageError(
        `vhost "${options.vhost}" is not in the definitions`,
        'Leave out --vhost to apply every vhost',
      )
    }
  }
  const api = new ManagementClient(options.managementUrl, 15_000)
  const actingUser = api.username
  defs = withActingUserAccess(defs, actingUser)
  const warnings: string[] = []
  if (defs.parameters?.length) {
    warnings.push(
      `${defs.parameters.length} runtime parameter(s) (shovels, federation ...) are not applied by evt provision`,
    )
  }

  let current = await currentDefinitions(api)
  let plan = planDefinitions(defs, current, {actingUser})
  const conflicts = plan.filter((i) => i.action === 'conflict')
  if (conflicts.length > 0 && !options.force && !options.dryRun) throw conflictError(conflicts.map(resultOf))

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

  if (options.dryRun) {
    const objects = plan.map(resultOf)
    if (options.force) for (const o of objects) if (o.action === 'conflict') o.action = 'recreate'
    return {
      dryRun: true,
      changed: false,
      counts: countPlan(plan),
      objects,
      ...(guest ? {guest} : {}),
      warnings,
    }
  }

  const recreated = new Map<string, string>()
  if (conflicts.length > 0) {
    if (options.confirmForce && !(await options.confirmForce(conflicts))) {
      throw new UsageError('aborted: nothing was deleted', 'Rerun with --force --yes to skip the question')
    }
    for (const c of conflicts) {
      try {
        await api.delete(objectPath(c.section, c.current ?? c.desired))
      } catch (err) {
        if (!(err instanceof ManagementHttpError && err.status === 404)) throw applyFailure(c, err, 0)
      }
      recreated.set(`${c.section}|${c.key}`, `was ${c.existing}`)
    }
    current = await currentDefinitions(api)
    plan = planDefinitions(defs, current, {actingUser})
  }

  const ctx: ApplyContext = {api, home: options.home, env, generated: {}, known: {}}
  const todo = plan.filter((i) => i.action === 'create' || i.action === 'update')
  let done = 0
  options.onProgress?.(0, todo.length)
  for (const [section] of SECTIONS) {
    const batch = todo.filter((i) => i.section === section)
    await eachLimited(batch, section === 'users' ? 1 : 8, async (item) => {
      try {
        await applyItem(item, ctx)
      } catch (err) {
        throw applyFailure(item, err, done)
      }
      done++
      options.onProgress?.(done, todo.length)
    })
  }
  await storePasswords(options.home, api.baseUrl, ctx.known)

  if (guest === 'deleted') await api.delete('/users/guest')

  const objects = plan.map((i): ProvisionObjectResult => {
    const r = resultOf(i)
    const was = recreated.get(`${i.section}|${i.key}`)
    if (was) {
      r.action = 'recreated'
      r.reason = was
    } else if (i.action === 'create') r.action = 'created'
    else if (i.action === 'update') r.action = 'updated'
    return r
  })
  const generated = Object.keys(ctx.generated).length > 0
  return {
    dryRun: false,
    changed: todo.length > 0 || recreated.size > 0 || guest === 'deleted',
    counts: countPlan(objects),
    objects,
    ...(generated ? {generatedPasswords: ctx.generated} : {}),
    ...(Object.keys(ctx.known).length > 0 ? {passwordsFile: `${options.home}/passwords.json`} : {}),
    ...(guest ? {guest} : {}),
    warnings,
  }
}

/** The broker's current definitions (all vhosts, or one vhost's objects and the users with access to it). */
export async function exportDefinitions(options: {managementUrl: string; vhost?: string}): Promise<Definitions> {
  const defs = await currentDefinitions(new ManagementClient(options.managementUrl, 15_000))
  if (options.vhost) {
    if (!defs.vhosts.some((v) => v.name === options.vhost)) {
      throw new UsageError(`vhost "${options.vhost}" does not exist on the broker`)
    }
    return filterVhost(defs, options.vhost)
  }
  return defs
}

export {passwordEnvName}

export interface ProvisionSummary {
  vhosts: string[]
  created: number
  updated: number
  unchanged: number
  changed: boolean
  generatedPasswords?: Record<string, string>
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
    ...(result.generatedPasswords ? {generatedPasswords: result.generatedPasswords} : {}),
    ...(result.passwordsFile ? {passwordsFile: result.passwordsFile} : {}),
  }
}
