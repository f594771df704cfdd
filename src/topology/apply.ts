import {EvtError} from '../errors.js'
import {enc, type ManagementClient, ManagementHttpError} from '../management/client.js'
import type {Definitions} from './definitions.js'
import {normalizeTags, type Obj, type PlanItem, planLabel, SECTIONS, type Section} from './model.js'
import {passwordFor} from './passwords.js'

/**
 * Applying a plan through the management API's own import (`POST /api/definitions`): the objects to
 * create or update go to the broker as one definitions document, so RabbitMQ applies them with its own
 * rules (the same code as `rabbitmqctl import_definitions`), concurrently and in its own order. When the
 * broker refuses the document, evt finds the object: it re-reads the broker and imports what is left one
 * object per document, in RabbitMQ's order, and stops at the first refusal with the broker's reason.
 */
export interface ApplyContext {
  api: ManagementClient
  home: string
  env: NodeJS.ProcessEnv
  actingUser: string
  /** Passwords generated in this run (shown once). */
  generated: Record<string, string>
  /** Passwords set in this run (stored in passwords.json). */
  known: Record<string, string>
}

/** The definitions entry RabbitMQ's import gets for one planned object. */
async function entryOf(item: PlanItem, ctx: ApplyContext): Promise<Obj> {
  const o = item.desired
  if (item.section !== 'users') return o
  const {password_env: envName, password_hash: hash, hashing_algorithm: algorithm, ...rest} = o
  const user = {...rest, tags: normalizeTags(o.tags)}
  const current = item.current
  // The acting user keeps its password (evt would lock itself out); an existing user keeps its hash unless
  // the file carries one. RabbitMQ's import would clear the password of a user given without a hash.
  const keep = current && (typeof hash !== 'string' || o.name === ctx.actingUser)
  if (keep) {
    return {
      ...user,
      password_hash: current.password_hash ?? '',
      ...(current.hashing_algorithm ? {hashing_algorithm: current.hashing_algorithm} : {}),
    }
  }
  if (typeof hash === 'string')
    return {...user, password_hash: hash, ...(algorithm ? {hashing_algorithm: algorithm} : {})}
  const name = String(o.name)
  const chosen = ctx.known[name]
  if (chosen !== undefined) return {...user, password: chosen}
  const pw = await passwordFor(name, {
    home: ctx.home,
    managementBaseUrl: ctx.api.baseUrl,
    env: ctx.env,
    envName: typeof envName === 'string' ? envName : undefined,
  })
  ctx.known[name] = pw.password
  if (pw.source === 'generated') ctx.generated[name] = pw.password
  return {...user, password: pw.password}
}

/** One definitions document holding the given objects. */
export async function importDocument(items: PlanItem[], ctx: ApplyContext): Promise<Record<string, Obj[]>> {
  const doc: Record<string, Obj[]> = {}
  for (const item of items) {
    const list = doc[item.section] ?? []
    list.push(await entryOf(item, ctx))
    doc[item.section] = list
  }
  return doc
}

/** The management API's import of a whole document (all vhosts). */
export async function postDefinitions(api: ManagementClient, doc: unknown): Promise<void> {
  await api.post('/definitions', doc)
}

export interface ApplyOutcome {
  /** How the objects went to the broker: one import, or one object at a time after a refusal. */
  mode: 'import' | 'per-object'
}

/**
 * Apply `todo` (create/update items). `replan` re-reads the broker and returns what is still to do,
 * so a partial import is continued, and a rerun after a failure picks up where it stopped.
 */
export async function applyPlan(
  todo: PlanItem[],
  ctx: ApplyContext,
  replan: () => Promise<PlanItem[]>,
  onProgress?: (done: number, total: number) => void,
): Promise<ApplyOutcome> {
  if (todo.length === 0) return {mode: 'import'}
  onProgress?.(0, todo.length)
  try {
    await postDefinitions(ctx.api, await importDocument(todo, ctx))
    onProgress?.(todo.length, todo.length)
    return {mode: 'import'}
  } catch (err) {
    if (!(err instanceof ManagementHttpError) || err.status >= 500 || err.status === 401) throw err
  }
  // The broker refused the document: find the object, applying what is left one object at a time.
  const left = await replan()
  let done = todo.length - left.length
  onProgress?.(done, todo.length)
  for (const [section] of SECTIONS) {
    for (const item of left.filter((i) => i.section === section)) {
      try {
        await postDefinitions(ctx.api, await importDocument([item], ctx))
      } catch (err) {
        throw applyFailure(item, err, done, todo.length)
      }
      done++
      onProgress?.(done, todo.length)
    }
  }
  return {mode: 'per-object'}
}

export function applyFailure(item: PlanItem, err: unknown, appliedBefore: number, total: number): EvtError {
  if (err instanceof ManagementHttpError) {
    return new EvtError(`the broker refused to ${item.action} ${planLabel(item)}: ${err.reason} (HTTP ${err.status})`, {
      exitCode: err.status >= 400 && err.status < 500 ? 2 : 3,
      cause: err,
      hint: `${appliedBefore} of ${total} object(s) were applied before it. Fix the object (or enable what it needs) and rerun: evt provision continues from there`,
      details: {object: {kind: item.kind, name: item.name, vhost: item.vhost}, appliedBefore, total},
    })
  }
  return err instanceof EvtError ? err : new EvtError(String(err), {exitCode: 3})
}

/** The REST path of an exchange or queue (what --force deletes). */
export function objectPath(section: Section, o: Obj): string {
  const kind = section === 'exchanges' ? 'exchanges' : 'queues'
  return `/${kind}/${enc(String(o.vhost))}/${enc(String(o.name))}`
}

/** Delete conflicting exchanges/queues (--force); a 404 means it is already gone. */
export async function deleteObjects(api: ManagementClient, items: PlanItem[]): Promise<void> {
  for (const c of items) {
    try {
      await api.delete(objectPath(c.section, c.current ?? c.desired))
    } catch (err) {
      if (!(err instanceof ManagementHttpError && err.status === 404)) throw applyFailure(c, err, 0, items.length)
    }
  }
}

/**
 * The broker's definitions as the plan compares them: `GET /api/definitions`, with vhost metadata
 * from `/api/vhosts` (3.10 exports only vhost names).
 */
export async function currentDefinitions(api: ManagementClient): Promise<Definitions> {
  const [defs, vhosts] = await Promise.all([api.get<Partial<Definitions>>('/definitions'), api.get<Obj[]>('/vhosts')])
  const out = {...defs} as Definitions
  for (const [section] of SECTIONS) (out[section] as unknown[]) ??= []
  const byName = new Map(vhosts.map((v) => [String(v.name), v]))
  out.vhosts = out.vhosts.map((v) => {
    const live = byName.get(v.name)
    if (!live) return v
    const metadata = (live.metadata as Obj | undefined) ?? {}
    return {
      ...v,
      description: String(live.description ?? metadata.description ?? ''),
      tags: normalizeTags(live.tags ?? metadata.tags),
      metadata,
    }
  })
  return out
}
