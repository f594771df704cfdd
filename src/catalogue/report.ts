import {renderTable} from '../ui/table.js'
import type {EventType} from './types.js'

/** The `evt events` table: one row per catalogue type. */
export function catalogueRows(types: EventType[]): string[][] {
  return types.map((t) => [t.qualifiedName, t.exchange, t.routingKey, t.description])
}

export function formatCatalogue(types: EventType[]): string {
  return renderTable(['type', 'exchange', 'routing key', 'description'], catalogueRows(types), {
    colAligns: ['left', 'left', 'left', 'left'],
  })
}
