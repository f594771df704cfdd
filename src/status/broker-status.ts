import {connectAmqp} from '../amqp/connect.js'
import type {RuntimeKind} from '../broker/types.js'
import type {ConnectionSettings} from '../config/resolve.js'
import {maskUrl, parseAmqpUrl, withVhost} from '../config/url.js'
import {ManagementClient} from '../management/client.js'

export interface QueueStatus {
  vhost: string
  name: string
  type: string
  durable: boolean
  ready: number
  unacked: number
  consumers: number
}

export interface BrokerStatus {
  runtime: RuntimeKind | 'unknown'
  /** Where the connection settings came from: flag, env, state (evt up) or default. */
  source: ConnectionSettings['source']
  node: string
  version: string
  erlangVersion: string
  uptimeSeconds?: number
  amqpUrl: string
  managementUrl: string
  vhosts: string[]
  queues: QueueStatus[]
}

/**
 * The broker as the management API sees it. Queue counts are the management statistics,
 * which RabbitMQ refreshes every 5 s.
 */
export async function brokerStatus(connection: ConnectionSettings): Promise<BrokerStatus> {
  // AMQP first: it is what services use, and it names wrong credentials and missing vhosts precisely.
  const amqp = await connectAmqp(
    withVhost(connection.amqpUrl, connection.vhost ?? parseAmqpUrl(connection.amqpUrl).vhost),
  )
  await amqp.close().catch(() => undefined)
  const api = new ManagementClient(connection.managementUrl)
  const overview = await api.overview()
  const [nodes, vhosts, queues] = await Promise.all([
    api.get<{name: string; uptime?: number}[]>('/nodes'),
    api.get<{name: string}[]>('/vhosts'),
    connection.vhost ? api.listQueues(connection.vhost) : api.listQueues(),
  ])
  const node = nodes.find((n) => n.name === overview.node)
  return {
    runtime: connection.broker?.runtime ?? (connection.source === 'state' ? 'unknown' : 'external'),
    source: connection.source,
    node: overview.node,
    version: overview.rabbitmq_version,
    erlangVersion: overview.erlang_version,
    uptimeSeconds: node?.uptime === undefined ? undefined : Math.round(node.uptime / 1000),
    amqpUrl: maskUrl(connection.amqpUrl),
    managementUrl: maskUrl(connection.managementUrl),
    vhosts: vhosts.map((v) => v.name).sort(),
    queues: queues
      .map((q) => ({
        vhost: q.vhost,
        name: q.name,
        type: q.type ?? 'classic',
        durable: q.durable,
        ready: q.messages_ready ?? 0,
        unacked: q.messages_unacknowledged ?? 0,
        consumers: q.consumers ?? 0,
      }))
      .sort((a, b) => a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name)),
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  const m = Math.floor(seconds / 60)
  if (m < 60) return `${m}m ${seconds % 60}s`
  const h = Math.floor(m / 60)
  return `${h}h ${m % 60}m`
}
