import {renderTable} from '../ui/table.js'
import type {TailSummary} from './session.js'

const REASONS: Record<TailSummary['reason'], string> = {
  count: 'the --count was reached',
  timeout: 'the --timeout ran out',
  idle: 'nothing arrived for --idle seconds',
  signal: 'interrupted',
  'output-closed': 'the output was closed',
  cancelled: 'the broker cancelled the consumer',
}

/** The end-of-tail report for people: totals, then messages per routing key and per type. */
export function formatSummary(s: TailSummary): string {
  const lines = [
    `${s.messages} message${s.messages === 1 ? '' : 's'} in ${s.seconds.toFixed(1)} s (${s.perSecond} msg/s); stopped because ${REASONS[s.reason]}${
      s.delivered > s.messages ? `; ${s.delivered - s.messages} delivered but filtered out or past --count` : ''
    }${s.reconnects > 0 ? `; reconnected ${s.reconnects}×` : ''}${s.requeued > 0 ? `; ${s.requeued} put back in their queue` : ''}`,
  ]
  if (s.saved !== undefined) lines[0] += `; ${s.saved} saved`
  // Two tables: a routing key and a type on the same row would suggest they belong together.
  const table = (title: string, entries: [string, number][]) => {
    if (entries.length === 0) return
    const rows = entries.slice(0, 20).map(([k, n]) => [k === '' ? '""' : k, n])
    lines.push(renderTable([title, 'messages'], rows, {colAligns: ['left', 'right']}))
    if (entries.length > 20) lines.push(`(${entries.length - 20} more; --json gives them all)`)
  }
  table('routing key', Object.entries(s.byRoutingKey))
  table('type', Object.entries(s.byType))
  return lines.join('\n')
}

/** The reason a bounded run failed (exit 1), or undefined when it succeeded. */
export function unmetCount(s: TailSummary, count: number | undefined): string | undefined {
  if (count === undefined || s.messages >= count) return undefined
  if (s.reason !== 'timeout' && s.reason !== 'idle') return undefined
  return `only ${s.messages} of ${count} message${count === 1 ? '' : 's'} arrived before ${REASONS[s.reason]}`
}
