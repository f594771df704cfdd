import {renderTable} from '../report/table.js'
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
  const keys = Object.entries(s.byRoutingKey)
  const types = Object.entries(s.byType)
  if (keys.length > 0) {
    const rows: (string | number)[][] = []
    const n = Math.max(keys.length, types.length)
    for (let i = 0; i < Math.min(n, 20); i++) {
      rows.push([keys[i]?.[0] ?? '', keys[i]?.[1] ?? '', types[i]?.[0] ?? '', types[i]?.[1] ?? ''])
    }
    lines.push(
      renderTable(['routing key', 'messages', 'type', 'messages'], rows, {
        colAligns: ['left', 'right', 'left', 'right'],
      }),
    )
    if (n > 20) lines.push(`(${n - 20} more rows; --json gives them all)`)
  }
  return lines.join('\n')
}

/** The reason a bounded run failed (exit 1), or undefined when it succeeded. */
export function unmetCount(s: TailSummary, count: number | undefined): string | undefined {
  if (count === undefined || s.messages >= count) return undefined
  if (s.reason !== 'timeout' && s.reason !== 'idle') return undefined
  return `only ${s.messages} of ${count} message${count === 1 ? '' : 's'} arrived before ${REASONS[s.reason]}`
}
