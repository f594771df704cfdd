import type {Definitions} from '../definitions.js'
import {deadLetterChain, queueFactsShort, type TopologyGraph} from './graph.js'

/**
 * The topology as a picture for docs and reviews: Graphviz DOT or Mermaid, exchanges (amber), queues
 * (blue), dead-letter queues (red), binding edges labelled with their key, dead-letter edges dashed.
 */

export type DiagramFormat = 'dot' | 'mermaid'

interface Node {
  id: string
  label: string
  kind: 'exchange' | 'queue' | 'dlq'
}
interface Edge {
  from: string
  to: string
  label: string
  deadLetter: boolean
}

const FILL = {exchange: '#fde68a', queue: '#bfdbfe', dlq: '#fecaca'} as const

function diagramModel(graph: TopologyGraph, defs: Definitions): {vhost: string; nodes: Node[]; edges: Edge[]}[] {
  return graph.vhosts.map((v) => {
    const id = (kind: 'x' | 'q', name: string) => `${kind}_${v.vhost}_${name}`.replace(/[^A-Za-z0-9_]/g, '_')
    const nodes: Node[] = []
    const edges: Edge[] = []
    const dlq = new Set<string>()
    for (const q of v.queues) {
      const chain = deadLetterChain(defs, v.vhost, q.name)
      if (!chain) continue
      for (const r of chain.reaches) {
        dlq.add(r.queue)
        edges.push({
          from: id('q', q.name),
          to: id('q', r.queue),
          label: `dead-letter via ${chain.exchange || '(default)'}${chain.routingKey === undefined ? '' : ` [${chain.routingKey}]`}`,
          deadLetter: true,
        })
      }
    }
    for (const e of v.exchanges) {
      nodes.push({id: id('x', e.name), label: `${e.name}\\n(${e.type})`, kind: 'exchange'})
      for (const b of e.bindings) {
        const key = e.type === 'fanout' ? '' : e.type === 'headers' ? 'headers' : b.key || '""'
        edges.push({
          from: id('x', e.name),
          to: id(b.destinationType === 'queue' ? 'q' : 'x', b.destination),
          label: key,
          deadLetter: false,
        })
      }
    }
    for (const q of v.queues) {
      nodes.push({
        id: id('q', q.name),
        label: `${q.name}\\n${queueFactsShort(q)}`,
        kind: dlq.has(q.name) ? 'dlq' : 'queue',
      })
    }
    return {vhost: v.vhost, nodes, edges}
  })
}

const dotString = (s: string) => `"${s.replace(/\\(?!n)/g, '\\\\').replace(/"/g, '\\"')}"`

export function renderDot(graph: TopologyGraph, defs: Definitions): string {
  const lines = [
    'digraph topology {',
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=10, style=filled];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ]
  for (const [i, v] of diagramModel(graph, defs).entries()) {
    lines.push(`  subgraph cluster_${i} {`, `    label=${dotString(`vhost ${v.vhost}`)};`, '    color="#9ca3af";')
    for (const n of v.nodes) {
      const shape = n.kind === 'exchange' ? 'box' : 'ellipse'
      lines.push(`    ${n.id} [label=${dotString(n.label)}, shape=${shape}, fillcolor="${FILL[n.kind]}"];`)
    }
    for (const e of v.edges) {
      const style = e.deadLetter ? ', style=dashed, color="#dc2626", fontcolor="#dc2626"' : ''
      lines.push(`    ${e.from} -> ${e.to} [label=${dotString(e.label)}${style}];`)
    }
    lines.push('  }')
  }
  lines.push('}')
  return `${lines.join('\n')}\n`
}

/** Mermaid flowchart text: labels quoted, characters Mermaid gives meaning to replaced by entities. */
const mermaidLabel = (s: string) => `"${s.replace(/\\n/g, '<br/>').replace(/"/g, '#quot;')}"`

export function renderMermaid(graph: TopologyGraph, defs: Definitions): string {
  const lines = ['flowchart LR']
  const linkStyles: string[] = []
  let edgeIndex = 0
  for (const [i, v] of diagramModel(graph, defs).entries()) {
    lines.push(`  subgraph vhost_${i}[${mermaidLabel(`vhost ${v.vhost}`)}]`)
    for (const n of v.nodes) {
      const shape = n.kind === 'exchange' ? `[${mermaidLabel(n.label)}]` : `([${mermaidLabel(n.label)}])`
      lines.push(`    ${n.id}${shape}:::${n.kind}`)
    }
    for (const e of v.edges) {
      const arrow = e.deadLetter ? '-.->' : '-->'
      lines.push(
        e.label ? `    ${e.from} ${arrow}|${mermaidLabel(e.label)}| ${e.to}` : `    ${e.from} ${arrow} ${e.to}`,
      )
      if (e.deadLetter) linkStyles.push(`  linkStyle ${edgeIndex} stroke:#dc2626,color:#dc2626`)
      edgeIndex++
    }
    lines.push('  end')
  }
  lines.push(
    `  classDef exchange fill:${FILL.exchange},stroke:#b45309`,
    `  classDef queue fill:${FILL.queue},stroke:#1d4ed8`,
    `  classDef dlq fill:${FILL.dlq},stroke:#b91c1c`,
    ...linkStyles,
  )
  return `${lines.join('\n')}\n`
}

export function renderDiagram(format: DiagramFormat, graph: TopologyGraph, defs: Definitions): string {
  return format === 'dot' ? renderDot(graph, defs) : renderMermaid(graph, defs)
}
