import {readFile} from 'node:fs/promises'
import {builtinFixturesDir} from '../project/paths.js'
import {loadProject} from '../project/project.js'

/**
 * RabbitMQ's own definitions format (what the management UI exports and `POST /api/definitions`
 * imports), so a team can bring its own export. Users carry no plain-text password in a fixture.
 */
export interface DefinitionsUser {
  name: string
  tags: string | string[]
  password_hash?: string
  hashing_algorithm?: string
  /** max-connections, max-channels (RabbitMQ 3.10+, feature flag user_limits). */
  limits?: Record<string, unknown>
  /** evt extension: the env var holding the password (default EVT_PASSWORD_<NAME>). */
  password_env?: string
}
export interface DefinitionsVhost {
  name: string
  description?: string
  tags?: string | string[]
  /** description, tags, default_queue_type: RabbitMQ's import reads default_queue_type only from here. */
  metadata?: Record<string, unknown>
  /** Present in exports; RabbitMQ's import ignores it (vhost limits travel as `vhost-limits` parameters). */
  limits?: unknown
  /** RabbitMQ's import ignores a top-level default_queue_type (it reads metadata.default_queue_type). */
  default_queue_type?: string
  tracing?: boolean
}
export interface DefinitionsPermission {
  user: string
  vhost: string
  configure: string
  write: string
  read: string
}
export interface DefinitionsTopicPermission {
  user: string
  vhost: string
  exchange: string
  write: string
  read: string
}
export interface DefinitionsPolicy {
  vhost: string
  name: string
  pattern: string
  'apply-to': 'queues' | 'exchanges' | 'all' | 'classic_queues' | 'quorum_queues' | 'streams'
  definition: Record<string, unknown>
  priority: number
}
/** A vhost-scoped runtime parameter: vhost-limits, operator_policy, federation-upstream, shovel ... */
export interface DefinitionsParameter {
  vhost: string
  component: string
  name: string
  value: unknown
}
export interface DefinitionsGlobalParameter {
  name: string
  value: unknown
}
export interface DefinitionsExchange {
  name: string
  vhost: string
  type: string
  durable: boolean
  auto_delete: boolean
  internal: boolean
  arguments: Record<string, unknown>
}
export interface DefinitionsQueue {
  name: string
  vhost: string
  durable: boolean
  auto_delete: boolean
  arguments: Record<string, unknown>
}
export interface DefinitionsBinding {
  source: string
  vhost: string
  destination: string
  destination_type: 'queue' | 'exchange'
  routing_key: string
  arguments: Record<string, unknown>
}

export interface Definitions {
  rabbit_version?: string
  rabbitmq_version?: string
  users: DefinitionsUser[]
  vhosts: DefinitionsVhost[]
  permissions: DefinitionsPermission[]
  topic_permissions: DefinitionsTopicPermission[]
  parameters: DefinitionsParameter[]
  global_parameters: DefinitionsGlobalParameter[]
  policies: DefinitionsPolicy[]
  exchanges: DefinitionsExchange[]
  queues: DefinitionsQueue[]
  bindings: DefinitionsBinding[]
}

export function emptyDefinitions(): Definitions {
  return {
    users: [],
    vhosts: [],
    permissions: [],
    topic_permissions: [],
    parameters: [],
    global_parameters: [],
    policies: [],
    exchanges: [],
    queues: [],
    bindings: [],
  }
}

/** fixtures/ of the installed package (the one helper lives in src/project/paths.ts). */
export const fixturesDir = builtinFixturesDir

/** The project's definitions files (evt.yaml `topology`), or the seed systems' without a project file. */
export async function fixtureTopologyFiles(): Promise<string[]> {
  return loadProject().topologyFiles
}

/** Concatenate several definitions files (the provisioner validates and de-duplicates). */
export function mergeDefinitions(parts: Partial<Definitions>[]): Definitions {
  const out = emptyDefinitions()
  for (const part of parts) {
    for (const key of Object.keys(out) as (keyof Definitions)[]) {
      const list = part[key]
      if (Array.isArray(list)) (out[key] as unknown[]).push(...list)
    }
  }
  return out
}

/** JSON text as RabbitMQ reads it: a leading UTF-8 byte order mark is allowed. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/** Read definitions files without validation (use the topology validator for user input). */
export async function readDefinitionsFiles(files?: string[]): Promise<Definitions> {
  const paths = files ?? (await fixtureTopologyFiles())
  const parts = await Promise.all(
    paths.map(async (p) => JSON.parse(stripBom(await readFile(p, 'utf8'))) as Partial<Definitions>),
  )
  return mergeDefinitions(parts)
}
