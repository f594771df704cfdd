import {type DownResult, nothingToStop, type UpResult} from '../broker/lifecycle.js'
import {isContainerCluster, localClusterFacts, type RuntimeKind} from '../broker/types.js'
import {maskUrl} from '../config/url.js'
import {renderTable} from '../ui/table.js'
import {colorEnabled, painter} from '../ui/terminal.js'
import {type BrokerStatus, formatDuration} from './broker-status.js'

export interface UpReport {
  name: string
  runtime: RuntimeKind
  status: 'started' | 'resumed' | 'already-running' | 'adopted'
  /** Node name (local) or container id (container). */
  node?: string
  /** container runtime: the image. */
  image?: string
  amqpUrl: string
  managementUrl: string
  managementUi: string
  readySeconds: number
  dataDir?: string
  /** A cluster: every node with its AMQP URL and management UI. */
  nodes?: {index: number; name: string; amqpUrl: string; managementUi: string}[]
}

function uiOf(url: string): string {
  const ui = new URL(url)
  ui.username = ''
  ui.password = ''
  return ui.toString()
}

export function upReport(result: UpResult, options: {showSecrets?: boolean} = {}): UpReport {
  const r = result.broker.record
  const show = (u: string) => (options.showSecrets ? u : maskUrl(u))
  const ui = new URL(r.managementUrl)
  ui.username = ''
  ui.password = ''
  return {
    name: r.name,
    runtime: r.runtime,
    status: result.adopted
      ? 'adopted'
      : result.alreadyRunning
        ? 'already-running'
        : result.resumed
          ? 'resumed'
          : 'started',
    node: r.local?.nodeName ?? r.container?.id.slice(0, 12),
    ...(r.container ? {image: r.container.image} : {}),
    ...(isContainerCluster(r.cluster) ? {image: r.cluster.image} : {}),
    amqpUrl: show(r.amqpUrl),
    managementUrl: show(r.managementUrl),
    managementUi: ui.toString(),
    readySeconds: Math.round(result.readySeconds * 100) / 100,
    dataDir: r.local?.dataDir ?? localClusterFacts(r)?.dataDir,
    ...(r.cluster
      ? {
          nodes: r.cluster.nodes.map((n, i) => ({
            index: i + 1,
            name: n.nodeName,
            amqpUrl: show(r.cluster?.amqpUrls[i] ?? ''),
            managementUi: uiOf(r.cluster?.managementUrls[i] ?? ''),
          })),
        }
      : {}),
  }
}

export function formatUpReport(report: UpReport): string {
  const paint = painter(colorEnabled())
  const headline =
    report.status === 'already-running'
      ? `Broker "${report.name}" is already running.`
      : report.status === 'adopted'
        ? `Broker "${report.name}" is running (its \`evt up\` had died; taken over).`
        : `Broker "${report.name}" ${report.status === 'resumed' ? 'resumed' : 'ready'} in ${report.readySeconds.toFixed(1)}s.`
  const lines = [
    paint('green', headline),
    `  runtime     ${report.runtime}`,
    ...(report.node ? [`  ${report.image ? 'container' : 'node     '}   ${report.node}`] : []),
    ...(report.image ? [`  image       ${report.image}`] : []),
    ...(report.nodes
      ? report.nodes.flatMap((n) => [
          `  node ${n.index}      ${n.name}`,
          `    amqp      ${n.amqpUrl}`,
          `    management ${n.managementUi}`,
        ])
      : [`  amqp        ${report.amqpUrl}`, `  management  ${report.managementUi}`]),
  ]
  return lines.join('\n')
}

export function formatDownResult(result: DownResult): string {
  if (!result.stopped) return nothingToStop(result)
  const kept = result.keptData ? ' (data kept: `evt up` resumes it)' : ''
  return `Broker "${result.name}" (${result.runtime}) stopped in ${result.seconds.toFixed(2)}s${kept}.`
}

export function formatStatus(status: BrokerStatus): string {
  const lines = [
    `runtime     ${status.runtime}${status.source === 'state' ? '' : ` (from ${status.source})`}`,
    `node        ${status.node}`,
    ...(status.container ? [`container   ${status.container.id} (image ${status.container.image})`] : []),
    `version     RabbitMQ ${status.version}, Erlang ${status.erlangVersion}`,
    ...(status.uptimeSeconds === undefined ? [] : [`uptime      ${formatDuration(status.uptimeSeconds)}`]),
    `amqp        ${status.amqpUrl}`,
    `management  ${status.managementUrl}`,
    `vhosts      ${status.vhosts.join(', ')}`,
  ]
  if (status.cluster) {
    const c = status.cluster
    const short = (n?: string) => {
      const m = c.members.find((x) => x.name === n)
      return n === undefined ? '-' : m?.index ? `${m.index}` : n
    }
    const up = c.members.filter((m) => m.running).length
    lines.push(
      '',
      `cluster     ${up} of ${c.members.length} nodes running`,
      renderTable(
        ['#', 'node', 'running', 'alarms', 'partitions'],
        c.members.map((m) => [
          m.index ?? '',
          m.name,
          m.running ? 'yes' : 'NO',
          m.alarms.join(', ') || '-',
          m.partitions.map(short).join(', ') || '-',
        ]),
      ),
    )
    if (c.quorumQueues.length > 0) {
      lines.push(
        '',
        renderTable(
          ['vhost', 'quorum queue', 'leader', 'members', 'online'],
          c.quorumQueues.map((q) => [
            q.vhost,
            q.name,
            short(q.leader),
            q.members.map(short).join(' '),
            q.online.map(short).join(' '),
          ]),
        ),
      )
    }
  }
  if (status.queues.length === 0) {
    lines.push('', 'No queues.')
  } else {
    lines.push(
      '',
      renderTable(
        ['vhost', 'queue', 'type', 'ready', 'unacked', 'consumers'],
        status.queues.map((q) => [
          q.vhost,
          // evt tail's private tap queues (evt.tap.*) are marked, so nobody mistakes them for a service's.
          q.name.startsWith('evt.tap.') ? `${q.name} (evt tail)` : q.name,
          q.type,
          q.ready,
          q.unacked,
          q.consumers,
        ]),
        {colAligns: ['left', 'left', 'left', 'right', 'right', 'right']},
      ),
      '(queue counts are management statistics, refreshed every 5 s)',
    )
  }
  return lines.join('\n')
}
