import {renderTable} from '../../ui/table.js'
import type {Paint} from '../../ui/terminal.js'
import type {EventRoute, RouteFindings} from './routes.js'

/** The `--events` table (type → exchange/key → queues) and the findings under it. */
export function formatRoutes(routes: EventRoute[], findings: RouteFindings, paint: Paint): string {
  const table = renderTable(
    ['type', 'exchange → routing key', 'reaches'],
    routes.map((r) => [
      r.type,
      `${r.exchange || '(default)'} → ${r.routingKey}`,
      r.queues.join(', ') || paint('red', '(no queue)'),
    ]),
  )
  const lines = [table]
  for (const r of findings.unroutedTypes) {
    lines.push(paint('yellow', `! ${r.type} reaches no queue: nothing is bound on ${r.exchange} for ${r.routingKey}`))
  }
  for (const q of findings.unreachedQueues) {
    lines.push(paint('yellow', `! queue ${q.vhost}/${q.queue} is reached by no catalogue type`))
  }
  for (const g of findings.deadLetterGaps) {
    lines.push(
      paint(
        'yellow',
        `! ${g.vhost}/${g.queue} dead-letters to ${g.exchange || '(default)'} with key ${g.routingKey}, where no queue is bound for it: dead letters are lost`,
      ),
    )
  }
  const count = findings.unroutedTypes.length + findings.unreachedQueues.length + findings.deadLetterGaps.length
  lines.push(
    count === 0
      ? paint('green', 'Every type reaches a queue; every queue and dead-letter route is used.')
      : `${count} finding(s).`,
  )
  return lines.join('\n')
}
