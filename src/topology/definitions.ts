import {readdir, readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * RabbitMQ's own definitions format (what the management UI exports and `POST /api/definitions`
 * imports), so a team can bring its own export. Users carry no plain-text password in a fixture.
 */
export interface DefinitionsUser {
  name: string
  tags: string | string[]
  password_hash?: string
  hashing_algorithm?: string
  /** evt extension: the env var holding the password (default EVT_PASSWORD_<NAME>). */
  password_env?: string
}
export interface DefinitionsVhost {
  name: string
  description?: string
  metadata?: Record<string, unknown>
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
  parameters?: unknown[]
  global_parameters?: unknown[]
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
    policies: [],
    exchanges: [],
    queues: [],
    bindings: [],
  }
}

/** fixtures/ of the installed package (works from src/ under tsx and from dist/). */
export function fixturesDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures')
}

export async function fixtureTopologyFiles(): Promise<string[]> {
  const dir = join(fixturesDir(), 'topology')
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()
  return names.map((n) => join(dir, n))
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

/** Read definitions files without validation (use the topology validator for user input). */
export async function readDefinitionsFiles(files?: string[]): Promise<Definitions> {
  const paths = files ?? (await fixtureTopologyFiles())
  const parts = await Promise.all(paths.map(async (p) => JSON.parse(await readFile(p, 'utf8')) as Partial<Definitions>))
  return mergeDefinitions(parts)
}
