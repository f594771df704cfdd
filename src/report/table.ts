import {createRequire} from 'node:module'
import type Table from 'cli-table3'
import {colorEnabled} from './terminal.js'

const require = createRequire(import.meta.url)

/** A cli-table3 table that is plain (no ANSI) when stdout is not a TTY. */
export function renderTable(
  head: string[],
  rows: (string | number)[][],
  options: {colAligns?: ('left' | 'right')[]} = {},
) {
  const TableCtor = require('cli-table3') as typeof Table
  const color = colorEnabled()
  const table = new TableCtor({
    head,
    ...(options.colAligns ? {colAligns: options.colAligns} : {}),
    style: color ? {head: ['cyan'], border: ['gray']} : {head: [], border: []},
  })
  for (const row of rows) table.push(row.map((c) => String(c)))
  return table.toString()
}
