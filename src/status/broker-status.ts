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
  /** container runtime: the container's image and id (short). */
  container?: {image: string; id: string}
  version: string
  erlangVersion: string
  uptimeSeconds?: number
  amqpUrl: string
  managementUrl: string
  vhosts: string[]
  queues: QueueStatus[]
  /** A cluster (more than one node): its members and its quorum queues' leaders. */
  cluster?: ClusterStatus
}

export interface ClusterStatus {
  members: {
    /** evt's number for the node (evt node stop 2), when evt started the cluster. */
    index?: number
    name: string
    running: boolean
    partitions: string[]
    alarms: string[]
  }[]
  quorumQueues: {vhost: string; name: string; leader?: string; members: string[]; online: string[]}[]
}

/** A cluster whose first node is down is read through another: the first node that answers AMQP. */
async function answeringNode(connection: ConnectionSettings): Promise<ConnectionSettings> {
  const c = connection.broker?.cluster
  if (!c || connection.source !== 'state') return connection
  const {amqpAnswers} = await import('../broker/probe.js')
  for (const [i, n] of c.nodes.entries()) {
    if (await amqpAnswers('127.0.0.1', n.ports.amqp, 500)) {
      return {...connection, amqpUrl: c.amqpUrls[i], managementUrl: c.managementUrls[i]}
    }
  }
  return connection
}

/**
 * The broker as the management API sees it. Queue counts are the management statistics,
 * which RabbitMQ refreshes every 5 s.
 */
export async function brokerStatus(given: ConnectionSettings): Promise<BrokerStatus> {
  const connection = await answeringNode(given)
  // AMQP first: it is what services use, and it names wrong credentials and missing vhosts precisely.
  const amqp = await connectAmqp(
    withVhost(connection.amqpUrl, connection.vhost ?? parseAmqpUrl(connection.amqpUrl).vhost),
  )
  await amqp.close().catch(() => undefined)
  const api = new ManagementClient(connection.managementUrl)
  const overview = await api.overview()
  const [nodes, vhosts, queues] = await Promise.all([
    api.get<
      {
        name: string
        uptime?: number
        running?: boolean
        partitions?: string[]
        mem_alarm?: boolean
        disk_free_alarm?: boolean
      }[]
    >('/nodes'),
    api.get<{name: string}[]>('/vhosts'),
    connection.vhost ? api.listQueues(connection.vhost) : api.listQueues(),
  ])
  const node = nodes.find((n) => n.name === overview.node)
  const recorded = connection.broker?.cluster?.nodes.map((n) => n.nodeName)
  const cluster: ClusterStatus | undefined =
    nodes.length > 1 || recorded
      ? {
          members: nodes
            .map((n) => ({
              ...(recorded?.includes(n.name) ? {index: recorded.indexOf(n.name) + 1} : {}),
              name: n.name,
              running: Boolean(n.running),
              partitions: n.partitions ?? [],
              alarms: [...(n.mem_alarm ? ['memory'] : []), ...(n.disk_free_alarm ? ['disk'] : [])],
            }))
            .sort((a, b) => (a.index ?? 99) - (b.index ?? 99) || a.name.localeCompare(b.name)),
          quorumQueues: queues
            .filter((q) => q.type === 'quorum')
            .map((q) => ({
              vhost: q.vhost,
              name: q.name,
              leader: q.leader,
              members: q.members ?? [],
              online: q.online ?? [],
            }))
            .sort((a, b) => a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name)),
        }
      : undefined
  return {
    runtime: connection.broker?.runtime ?? (connection.source === 'state' ? 'unknown' : 'external'),
    source: connection.source,
    node: overview.node,
    ...(connection.broker?.container
      ? {container: {image: connection.broker.container.image, id: connection.broker.container.id.slice(0, 12)}}
      : {}),
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
    ...(cluster ? {cluster} : {}),
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  const m = Math.floor(seconds / 60)
  if (m < 60) return `${m}m ${seconds % 60}s`
  const h = Math.floor(m / 60)
  return `${h}h ${m % 60}m`
}
