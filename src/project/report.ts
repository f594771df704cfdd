import type {InitResult} from './init.js'
import {shownPath} from './init.js'

export function formatInit(result: InitResult): string {
  const where = shownPath(result)
  const lines = [`Project "${result.name}" in ${where}`]
  if (result.kind !== 'empty')
    lines.push(
      `  ${result.events} event types, ${result.exchanges} exchanges, ${result.queues} queues${result.messages === undefined ? '' : ` (${result.messages} messages seen)`}`,
    )
  lines.push(`  wrote ${result.created.filter((c) => !c.endsWith('.gitkeep')).join(', ')}`)
  for (const note of result.notes) lines.push(`  note: ${note}`)
  const cd = where === '.' ? '' : `cd ${where} && `
  lines.push(
    '',
    'Next:',
    `  ${cd}evt events          # the catalogue`,
    '  evt up              # a broker provisioned with the topology',
    '  evt publish <type>  # one confirmed event',
  )
  return lines.join('\n')
}
