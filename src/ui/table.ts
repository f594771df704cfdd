import {createRequire} from 'node:module'
import type Table from 'cli-table3'
import {colorEnabled} from './terminal.js'

const require = createRequire(import.meta.url)

export interface TableOptions {
  colAligns?: ('left' | 'right')[]
  /** The width to fit in; default: the terminal's, unlimited when not a TTY. */
  maxWidth?: number
}

/** Each column's widest line, as cli-table3 counts it: the text plus one space of padding on each side. */
function naturalWidths(head: string[], rows: string[][]): number[] {
  const width = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length))
  return head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))) + 2)
}

/**
 * Column widths that fit maxWidth (borders included): the widest columns give up space first, none
 * below 6 characters; cells longer than their column wrap inside it. Undefined when all fits as it is.
 */
export function fitColumns(natural: number[], maxWidth: number): number[] | undefined {
  const borders = natural.length + 1
  const total = () => widths.reduce((a, b) => a + b, 0) + borders
  const widths = [...natural]
  if (total() <= maxWidth) return undefined
  const floor = 6
  while (total() > maxWidth) {
    const widest = widths.indexOf(Math.max(...widths))
    if (widths[widest] <= floor) break
    widths[widest]--
  }
  return widths
}

/** A cli-table3 table: plain (no ANSI) when stdout is not a TTY, fitted to the terminal's width when it is. */
export function renderTable(head: string[], rows: (string | number)[][], options: TableOptions = {}) {
  const TableCtor = require('cli-table3') as typeof Table
  const color = colorEnabled()
  const cells = rows.map((row) => row.map((c) => String(c)))
  const maxWidth = options.maxWidth ?? (process.stdout.isTTY ? process.stdout.columns : undefined)
  const colWidths = maxWidth ? fitColumns(naturalWidths(head, cells), maxWidth) : undefined
  const table = new TableCtor({
    head,
    ...(options.colAligns ? {colAligns: options.colAligns} : {}),
    ...(colWidths ? {colWidths, wordWrap: true, wrapOnWordBoundary: false} : {}),
    style: color ? {head: ['cyan'], border: ['gray']} : {head: [], border: []},
  })
  for (const row of cells) table.push(row)
  return withoutRowRules(table.toString())
}

/** cli-table3 draws a rule between every row: keep the one under the header, drop the rest (a 40-row table stays 40 lines). */
function withoutRowRules(text: string): string {
  let seenHeaderRule = false
  return text
    .split('\n')
    .filter((line) => {
      if (!/^(\u001b\[[0-9;]*m)*├/.test(line)) return true
      if (seenHeaderRule) return false
      seenHeaderRule = true
      return true
    })
    .join('\n')
}
