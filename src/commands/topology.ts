import {writeFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {maskUrl} from '../config/url.js'
import {CheckFailedError} from '../errors.js'
import {colorEnabled, hyperlinksEnabled, painter} from '../ui/terminal.js'

export default class Topology extends BaseCommand<typeof Topology> {
  static override summary =
    'Show where every event goes: exchanges, bindings, queues and dead-letter routes as a tree or a diagram.'
  static override description =
    'From the live broker (counts included) or, with --file, from definitions files without a broker. --events lists, for every catalogue type, the queues it reaches, and flags types that reach nothing, queues nothing reaches and dead-letter routes that lose messages. --format dot|mermaid writes a diagram for docs and reviews.'
  static override examples = [
    '<%= config.bin %> topology ecommerce',
    '<%= config.bin %> topology --events --check',
    '<%= config.bin %> topology ecommerce --format dot --output ecommerce.dot',
    '<%= config.bin %> topology --file my-export.json --format mermaid',
  ]
  static override args = {
    target: Args.string({
      description: 'A vhost, or a seed system (ecommerce, tutorgo, customers, courses); default: all',
    }),
  }
  static override flags = {
    file: Flags.string({summary: 'Definitions file(s) to show instead of the live broker.', multiple: true}),
    events: Flags.boolean({summary: 'List where each catalogue event type lands, and what looks wrong.'}),
    check: Flags.boolean({summary: 'With --events: exit 1 when anything is flagged (for CI).'}),
    format: Flags.option({options: ['tree', 'dot', 'mermaid'] as const, default: 'tree', summary: 'Output format.'})(),
    output: Flags.string({summary: 'Write the output to this file instead of stdout.'}),
    all: Flags.boolean({summary: "Include amq.* exchanges and evt's own tap queues."}),
  }

  async run(): Promise<unknown> {
    const {topologyView, renderTree, renderDiagram, findingCount} = await import('../topology/view/index.js')
    const {formatRoutes} = await import('../topology/view/report.js')
    const files = this.flags.file
    const connection = files ? undefined : await this.connection()
    const view = await topologyView({
      target: this.args.target,
      files,
      managementUrl: connection?.managementUrl,
      events: this.flags.events || this.flags.check,
      includeSystem: this.flags.all,
    })
    const toFile = this.flags.output !== undefined
    const paint = painter(!toFile && colorEnabled())
    let text: string
    if (this.flags.format === 'tree') {
      const links = !toFile && connection && hyperlinksEnabled() ? maskUrl(connection.managementUrl) : undefined
      text = renderTree(view.graph, view.definitions, {
        paint,
        width: !toFile && process.stdout.isTTY ? process.stdout.columns : undefined,
        linkBase: links,
      })
      if (view.routes && view.findings) text += `\n\n${formatRoutes(view.routes, view.findings, paint)}`
    } else text = renderDiagram(this.flags.format, view.graph, view.definitions)

    if (toFile) {
      await writeFile(this.flags.output as string, text.endsWith('\n') ? text : `${text}\n`)
      this.info(`Wrote ${this.flags.format} of ${view.vhosts.join(', ')} to ${this.flags.output}`)
    } else if (!this.jsonEnabled()) this.log(text.trimEnd())

    const flagged = view.findings ? findingCount(view.findings) : 0
    if (this.flags.check && flagged > 0) {
      throw new CheckFailedError(
        `the topology check found ${flagged} problem(s)`,
        'See the findings above (or under details with --json)',
        view.findings,
      )
    }
    return {source: view.source, vhosts: view.vhosts, graph: view.graph, routes: view.routes, findings: view.findings}
  }
}
