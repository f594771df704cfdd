import {execFileSync} from 'node:child_process'
import {JSDOM} from 'jsdom'
import {describe, expect, it} from 'vitest'
import {readDefinitionsFiles} from '../../../src/topology/definitions.js'
import {renderDot, renderMermaid} from '../../../src/topology/view/diagram.js'
import {buildGraph} from '../../../src/topology/view/graph.js'
import {cut, renderTree} from '../../../src/topology/view/tree.js'
import {painter} from '../../../src/ui/terminal.js'

const seeds = await readDefinitionsFiles()
const graph = buildGraph(seeds)
const plain = painter(false)

function hasGraphviz(): boolean {
  try {
    execFileSync('dot', ['-V'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

describe('the tree', () => {
  it('shows every seed queue, its binding and its dead-letter route', () => {
    const text = renderTree(buildGraph(seeds, {vhosts: ['ecommerce']}), seeds, {paint: plain})
    for (const q of seeds.queues.filter((x) => x.vhost === 'ecommerce')) expect(text).toContain(q.name)
    expect(text).toContain('├─ order.created → order.created  classic, durable · TTL 24h')
    expect(text).toMatch(/↳ dead-letters → deadletter \[order\.created\.failed\] → deadletter\.orders/)
    expect(text).toMatch(/# → exchange\n│ {2}│ {2}└─ analytics \(fanout\)/)
  })

  it('fits the width it is given without breaking colours or links', () => {
    const text = renderTree(graph, seeds, {paint: painter(true), width: 50, linkBase: 'http://127.0.0.1:15672'})
    const visible = (l: string) => [...l.replace(/\u001b\[[0-9;]*m|\u001b\]8;;[^\u0007]*\u0007/g, '')].length
    for (const line of text.split('\n')) expect(visible(line)).toBeLessThanOrEqual(50)
    expect(text).toContain('\u001b]8;;http://127.0.0.1:15672/#/queues/ecommerce/order.created\u0007')
    expect(cut('\u001b[31mabcdefgh\u001b[39m', 5)).toBe('\u001b[31mabcd…\u001b[0m')
  })
})

describe('diagrams', () => {
  it.skipIf(!hasGraphviz())('DOT renders to SVG with Graphviz (apt-get install graphviz)', () => {
    const dot = renderDot(graph, seeds)
    const svg = execFileSync('dot', ['-Tsvg'], {input: dot}).toString()
    expect(svg).toMatch(/^<\?xml/)
    for (const q of ['notification.booking', 'deadletter.orders', 'customers_created']) expect(svg).toContain(q)
    expect(dot).toContain('style=dashed')
  })

  it("Mermaid is accepted by Mermaid's own parser, and a broken one is not", async () => {
    const dom = new JSDOM('<!doctype html><html><body></body></html>')
    Object.assign(globalThis, {window: dom.window, document: dom.window.document})
    const {default: mermaid} = await import('mermaid')
    const text = renderMermaid(graph, seeds)
    await expect(mermaid.parse(text)).resolves.toMatchObject({diagramType: 'flowchart-v2'})
    await expect(mermaid.parse(text.replace('flowchart LR', 'flowchart LR\n  a -->|"x| b['))).rejects.toThrow(
      /Parse error/,
    )
    expect(text).toContain('classDef dlq')
  })
})
