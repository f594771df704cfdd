import {renderTable} from '../ui/table.js'
import type {PublishSummary} from './publisher.js'

/** The human summary of a run: one row per type, then the totals and anything that went wrong. */
export function formatPublishSummary(summary: PublishSummary): string {
  const head = ['type', 'published', 'confirmed', 'returned', 'nacked', 'rate/s']
  const rows: (string | number)[][] = summary.types.map((t) => [
    t.type,
    t.published,
    summary.confirm ? t.confirmed : '-',
    t.returned,
    summary.confirm ? t.nacked : '-',
    t.rate,
  ])
  if (summary.types.length > 1) {
    const t = summary.totals
    rows.push([
      'total',
      t.published,
      summary.confirm ? t.confirmed : '-',
      t.returned,
      summary.confirm ? t.nacked : '-',
      t.rate,
    ])
  }
  const lines = [renderTable(head, rows, {colAligns: ['left', 'right', 'right', 'right', 'right', 'right']})]
  const t = summary.totals
  const mode = `${summary.persistent ? 'persistent' : 'transient'}, ${summary.confirm ? 'confirmed' : 'confirms off'}`
  lines.push(`${t.published} message(s) in ${(summary.durationMs / 1000).toFixed(2)} s (${t.rate} msg/s, ${mode})`)
  if (!summary.confirm) lines.push('Confirms were off: no message is counted as confirmed.')
  if (summary.reconnects > 0)
    lines.push(
      `Reconnected ${summary.reconnects} time(s); republished ${summary.republished} unconfirmed message(s): possible duplicates.`,
    )
  return lines.join('\n')
}

/** Why the run exits 1, or undefined when it does not. */
export function publishProblems(summary: PublishSummary): string | undefined {
  const t = summary.totals
  const parts: string[] = []
  if (t.returned > 0) parts.push(`${t.returned} returned unroutable (no queue bound for the routing key)`)
  if (t.nacked > 0) parts.push(`${t.nacked} nacked by the broker`)
  if (summary.confirm && t.unconfirmed > 0) parts.push(`${t.unconfirmed} never confirmed`)
  if (summary.interrupted) parts.push('interrupted before every message was published')
  if (parts.length === 0) return undefined
  return `${parts.join(', ')}; ${t.confirmed} of ${t.published} confirmed`
}
