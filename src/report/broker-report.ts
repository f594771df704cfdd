import type {DownResult, UpResult} from '../broker/lifecycle.js'
import type {RuntimeKind} from '../broker/types.js'
import {maskUrl} from '../config/url.js'
import {type BrokerStatus, formatDuration} from '../status/broker-status.js'
import {renderTable} from './table.js'
import {colorEnabled, painter} from './terminal.js'

export interface UpReport {
  name: string
  runtime: RuntimeKind
  status: 'started' | 'resumed' | 'already-running'
  /** Node name (local) or container id (container). */
  node?: string
  amqpUrl: string
  managementUrl: string
  managementUi: string
  readySeconds: number
  dataDir?: string
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
    status: result.alreadyRunning ? 'already-running' : result.resumed ? 'resumed' : 'started',
    node: r.local?.nodeName ?? r.container?.id.slice(0, 12),
    amqpUrl: show(r.amqpUrl),
    managementUrl: show(r.managementUrl),
    managementUi: ui.toString(),
    readySeconds: Math.round(result.readySeconds * 100) / 100,
    dataDir: r.local?.dataDir,
  }
}

export function formatUpReport(report: UpReport): string {
  const paint = painter(colorEnabled())
  const headline =
    report.status === 'already-running'
      ? `Broker "${report.name}" is already running.`
      : `Broker "${report.name}" ${report.status === 'resumed' ? 'resumed' : 'ready'} in ${report.readySeconds.toFixed(1)}s.`
  const lines = [
    paint('green', headline),
    `  runtime     ${report.runtime}`,
    ...(report.node ? [`  node        ${report.node}`] : []),
    `  amqp        ${report.amqpUrl}`,
    `  management  ${report.managementUi}`,
  ]
  return lines.join('\n')
}

export function formatDownResult(result: DownResult): string {
  if (!result.stopped) return `No broker "${result.name}" is recorded: nothing to stop.`
  const kept = result.keptData ? ' (data kept: `evt up` resumes it)' : ''
  return `Broker "${result.name}" (${result.runtime}) stopped in ${result.seconds.toFixed(2)}s${kept}.`
}

export function formatStatus(status: BrokerStatus): string {
  const lines = [
    `runtime     ${status.runtime}${status.source === 'state' ? '' : ` (from ${status.source})`}`,
    `node        ${status.node}`,
    `version     RabbitMQ ${status.version}, Erlang ${status.erlangVersion}`,
    ...(status.uptimeSeconds === undefined ? [] : [`uptime      ${formatDuration(status.uptimeSeconds)}`]),
    `amqp        ${status.amqpUrl}`,
    `management  ${status.managementUrl}`,
    `vhosts      ${status.vhosts.join(', ')}`,
  ]
  if (status.queues.length === 0) {
    lines.push('', 'No queues.')
  } else {
    lines.push(
      '',
      renderTable(
        ['vhost', 'queue', 'type', 'ready', 'unacked', 'consumers'],
        status.queues.map((q) => [q.vhost, q.name, q.type, q.ready, q.unacked, q.consumers]),
        {colAligns: ['left', 'left', 'left', 'right', 'right', 'right']},
      ),
      '(queue counts are management statistics, refreshed every 5 s)',
    )
  }
  return lines.join('\n')
}
