import {type Color, hyperlink, type Paint} from '../../ui/terminal.js'
import type {Definitions} from '../definitions.js'
import {type DiffEntry, diffKey} from './diff.js'
import {
  boundExchanges,
  type DeadLetterChain,
  deadLetterChain,
  formatMs,
  type GraphExchange,
  type GraphQueue,
  type TopologyGraph,
  type VhostGraph,
} from './graph.js'

export interface TreeOptions {
  paint: Paint
  /** Cut lines to this width (a terminal's); undefined: never cut. */
  width?: number
  /** Management UI base URL (no credentials) for OSC 8 links; undefined: no links. */
  linkBase?: string
  /** A provision plan's marks (see diff.ts): each line starts with +, ~, ±, -, ! or blank, and changed objects say why. */
  marks?: Map<string, DiffEntry>
}

const SIGN: Record<DiffEntry['mark'], [string, Color]> = {
  add: ['+', 'green'],
  change: ['~', 'yellow'],
  recreate: ['±', 'yellow'],
  conflict: ['!', 'red'],
  remove: ['-', 'red'],
  kept: [' ', 'gray'],
}

/** The sign column of a diff tree ('' when the tree is not a diff). */
function sign(o: TreeOptions, entry?: DiffEntry): string {
  if (!o.marks) return ''
  if (!entry) return '  '
  const [symbol, color] = SIGN[entry.mark]
  return `${o.paint(color, symbol)} `
}

/** What a mark says after an object's name. */
function tag(o: TreeOptions, entry?: DiffEntry): string {
  if (!entry) return ''
  const why = entry.reason ? `: ${entry.reason}` : ''
  const text: Record<DiffEntry['mark'], string> = {
    add: 'new',
    change: `changed${why}`,
    recreate: `deleted and recreated (--force)${why}`,
    conflict: `conflict, needs --force${why}`,
    remove: `removed${why}`,
    kept: 'not in the files: left as it is',
  }
  return `  ${o.paint(SIGN[entry.mark][1], `[${text[entry.mark]}]`)}`
}

const KIND_COLOR: Record<string, Color> = {exchange: 'yellow', queue: 'cyan', dlq: 'red', key: 'magenta'}

/**
 * The topology as a tree, rabtap `info` style: exchange (type) → binding key → queue or nested exchange,
 * each queue with its type, counts, TTL and dead-letter route followed to its end.
 */
export function renderTree(graph: TopologyGraph, defs: Definitions, options: TreeOptions): string {
  const out: string[] = []
  for (const v of graph.vhosts) {
    const entry = options.marks?.get(diffKey('vhost', v.vhost, ''))
    out.push(`${sign(options, entry)}${options.paint('bold', `vhost ${v.vhost}`)}${tag(options, entry)}`)
    const lines = vhostLines(v, defs, options)
    out.push(...lines, '')
  }
  const text = out.join('\n').trimEnd()
  return options.width
    ? text
        .split('\n')
        .map((l) => cut(l, options.width as number))
        .join('\n')
    : text
}

function vhostLines(v: VhostGraph, defs: Definitions, o: TreeOptions): string[] {
  const lines: string[] = []
  const nested = boundExchanges(v)
  const roots = v.exchanges.filter((e) => !nested.has(e.name))
  const dlTargets = deadLetterQueues(v, defs)
  const bound = new Set(
    v.exchanges.flatMap((e) => e.bindings.filter((b) => b.destinationType === 'queue').map((b) => b.destination)),
  )
  const unbound = v.queues.filter((q) => !bound.has(q.name))
  const items: ((prefix: string, last: boolean) => void)[] = []
  for (const e of roots)
    items.push((prefix, last) => exchangeLines(v, defs, e, prefix, last, new Set(), dlTargets, o, lines))
  if (unbound.length > 0) {
    items.push((prefix, last) => {
      lines.push(`${sign(o)}${prefix}${last ? '└─ ' : '├─ '}${o.paint('gray', '(default exchange only: no bindings)')}`)
      const inner = prefix + (last ? '   ' : '│  ')
      for (const [i, q] of unbound.entries()) {
        queueLines(v, defs, q, inner, i === unbound.length - 1, dlTargets, o, lines, q.name)
      }
    })
  }
  if (items.length === 0) lines.push(`${sign(o)}${o.paint('gray', '   (empty)')}`)
  for (const [i, item] of items.entries()) item('', i === items.length - 1)
  return lines
}

function exchangeLines(
  v: VhostGraph,
  defs: Definitions,
  e: GraphExchange,
  prefix: string,
  last: boolean,
  path: Set<string>,
  dlTargets: Set<string>,
  o: TreeOptions,
  lines: string[],
): void {
  const flags = [e.type, ...(e.internal ? ['internal'] : []), ...(e.durable ? [] : ['transient'])]
  const ae = e.alternateExchange ? o.paint('gray', `  alternate → ${e.alternateExchange}`) : ''
  const entry = o.marks?.get(diffKey('exchange', v.vhost, e.name))
  lines.push(
    `${sign(o, entry)}${prefix}${last ? '└─ ' : '├─ '}${name(o, 'exchange', v.vhost, e.name)} ${o.paint('gray', `(${flags.join(', ')})`)}${ae}${tag(o, entry)}`,
  )
  const inner = prefix + (last ? '   ' : '│  ')
  if (path.has(e.name)) {
    lines.push(`${sign(o)}${inner}└─ ${o.paint('gray', '↺ (cycle)')}`)
    return
  }
  const here = new Set([...path, e.name])
  e.bindings.forEach((b, i) => {
    const lastBinding = i === e.bindings.length - 1
    const key = bindingLabel(e, b.key, b.arguments)
    const bindingMark = o.marks?.get(
      diffKey('binding', v.vhost, e.name, {
        destination_type: b.destinationType,
        destination: b.destination,
        routing_key: b.key,
      }),
    )
    if (b.destinationType === 'queue') {
      const q = v.queues.find((x) => x.name === b.destination)
      if (q)
        queueLines(
          v,
          defs,
          q,
          inner,
          lastBinding,
          dlTargets,
          o,
          lines,
          `${o.paint(KIND_COLOR.key, key)} → ${queueName(o, v, q, dlTargets)}`,
          bindingMark,
        )
      else
        lines.push(
          `${sign(o, bindingMark)}${inner}${lastBinding ? '└─ ' : '├─ '}${o.paint(KIND_COLOR.key, key)} → ${b.destination} ${o.paint('red', '(queue missing)')}`,
        )
      return
    }
    const target = v.exchanges.find((x) => x.name === b.destination)
    lines.push(
      `${sign(o, bindingMark)}${inner}${lastBinding ? '└─ ' : '├─ '}${o.paint(KIND_COLOR.key, key)} → exchange${tag(o, bindingMark)}`,
    )
    const deeper = inner + (lastBinding ? '   ' : '│  ')
    if (target) exchangeLines(v, defs, target, deeper, true, here, dlTargets, o, lines)
    else lines.push(`${sign(o)}${deeper}└─ ${b.destination} ${o.paint('red', '(exchange missing)')}`)
  })
  if (e.bindings.length === 0)
    lines.push(`${sign(o)}${inner}└─ ${o.paint('gray', '(no bindings: messages are dropped)')}`)
}

function bindingLabel(e: GraphExchange, key: string, args: Record<string, unknown>): string {
  if (e.type === 'fanout') return '(all)'
  if (e.type === 'headers') {
    const pairs = Object.entries(args).map(([k, val]) => `${k}=${String(val)}`)
    return `{${pairs.join(', ')}}`
  }
  return key === '' ? '""' : key
}

function queueName(o: TreeOptions, v: VhostGraph, q: GraphQueue, dlTargets: Set<string>): string {
  return name(o, dlTargets.has(q.name) ? 'dlq' : 'queue', v.vhost, q.name)
}

function queueLines(
  v: VhostGraph,
  defs: Definitions,
  q: GraphQueue,
  prefix: string,
  last: boolean,
  dlTargets: Set<string>,
  o: TreeOptions,
  lines: string[],
  label: string,
  bindingMark?: DiffEntry,
): void {
  const head = label === q.name ? queueName(o, v, q, dlTargets) : label
  const queueMark = o.marks?.get(diffKey('queue', v.vhost, q.name))
  // The line is the binding and its queue: the binding's mark leads, each says its own tag.
  const weight = (m?: DiffEntry) =>
    m ? ['kept', 'add', 'change', 'remove', 'recreate', 'conflict'].indexOf(m.mark) : -1
  const lead = weight(queueMark) > weight(bindingMark) ? queueMark : bindingMark
  const tags =
    bindingMark && bindingMark.mark !== queueMark?.mark ? tag(o, bindingMark) + tag(o, queueMark) : tag(o, lead)
  lines.push(`${sign(o, lead)}${prefix}${last ? '└─ ' : '├─ '}${head}  ${o.paint('gray', queueFacts(q))}${tags}`)
  const chain = deadLetterChain(defs, v.vhost, q.name)
  if (chain) chainLines(chain, prefix + (last ? '   ' : '│  '), o, v, lines)
}

/** "classic, durable · 3 ready, 0 unacked, 1 consumer · TTL 24h" */
export function queueFacts(q: GraphQueue): string {
  const parts = [[q.type, q.durable ? 'durable' : 'transient', ...(q.autoDelete ? ['auto-delete'] : [])].join(', ')]
  if (q.stats) {
    const c = q.stats.consumers
    parts.push(`${q.stats.ready} ready, ${q.stats.unacked} unacked, ${c} consumer${c === 1 ? '' : 's'}`)
  }
  const limits = [
    ...(q.ttlMs === undefined ? [] : [`TTL ${formatMs(q.ttlMs)}`]),
    ...(q.maxLength === undefined ? [] : [`max ${q.maxLength}`]),
    ...(q.deliveryLimit === undefined ? [] : [`delivery limit ${q.deliveryLimit}`]),
  ]
  if (limits.length > 0) parts.push(limits.join(', '))
  return parts.join(' · ')
}

function chainLines(chain: DeadLetterChain, prefix: string, o: TreeOptions, v: VhostGraph, lines: string[]) {
  const key = chain.routingKey === undefined ? '(original key)' : chain.routingKey
  const where =
    chain.reaches.length === 0
      ? o.paint('red', 'no queue: dead letters are lost')
      : chain.reaches.map((r) => name(o, 'dlq', v.vhost, r.queue) + (r.cycle ? o.paint('gray', ' ↺') : '')).join(', ')
  lines.push(
    `${sign(o)}${prefix}${o.paint('red', '↳ dead-letters')} → ${chain.exchange || '(default)'} [${key}] → ${where}`,
  )
  for (const r of chain.reaches) if (r.next) chainLines(r.next, `${prefix}   `, o, v, lines)
}

function deadLetterQueues(v: VhostGraph, defs: Definitions): Set<string> {
  const out = new Set<string>()
  const add = (chain: DeadLetterChain | undefined) => {
    for (const r of chain?.reaches ?? []) {
      out.add(r.queue)
      add(r.next)
    }
  }
  for (const q of v.queues) add(deadLetterChain(defs, v.vhost, q.name))
  return out
}

function name(o: TreeOptions, kind: 'exchange' | 'queue' | 'dlq', vhost: string, n: string): string {
  const painted = o.paint(KIND_COLOR[kind], n === '' ? '(default)' : n)
  if (!o.linkBase) return painted
  const page = kind === 'exchange' ? 'exchanges' : 'queues'
  return hyperlink(`${o.linkBase}/#/${page}/${encodeURIComponent(vhost)}/${encodeURIComponent(n)}`, painted, true)
}

/** Cut a line to width visible characters, keeping colour and link sequences intact. */
export function cut(line: string, width: number): string {
  const parts = line.split(/(\u001b\[[0-9;]*m|\u001b\]8;;[^\u0007]*\u0007)/)
  const isSequence = (p: string) => p.startsWith('\u001b')
  const visible = parts.filter((p) => !isSequence(p)).reduce((n, p) => n + [...p].length, 0)
  if (visible <= width) return line
  let room = Math.max(0, width - 1)
  let out = ''
  for (const part of parts) {
    if (isSequence(part)) {
      out += part
      continue
    }
    const chars = [...part]
    out += chars.slice(0, room).join('')
    room -= Math.min(room, chars.length)
    if (room === 0) break
  }
  out += '…'
  // Close what was opened: colours reset, a link ended.
  if (parts.some((p) => p.startsWith('\u001b['))) out += '\u001b[0m'
  if (parts.some((p) => p.startsWith('\u001b]8;;'))) out += '\u001b]8;;\u0007'
  return out
}
