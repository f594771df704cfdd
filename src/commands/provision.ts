import {writeFile} from 'node:fs/promises'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {stateHome} from '../config/state.js'
import {UsageError} from '../errors.js'
import type {LintFinding} from '../topology/lint.js'
import {type PlanItem, planLabel} from '../topology/model.js'
import type {ProvisionResult} from '../topology/provision.js'
import type {PreviewJson} from '../topology/view/diff-report.js'
import {colorEnabled} from '../ui/terminal.js'

export type ProvisionCommandResult =
  | ProvisionResult
  | (Omit<ProvisionResult, 'preview'> & {diff: PreviewJson})
  | {exported: string; vhosts: number; objects: number}
  | {targetVersion: string; findings: LintFinding[]}

export default class Provision extends BaseCommand<typeof Provision> {
  static override summary =
    'Apply RabbitMQ definitions (users, vhosts, permissions, policies, exchanges, queues, bindings): the seed systems by default.'
  static override description =
    'Idempotent: a second run changes nothing. Files are RabbitMQ definitions (what the management UI exports); several merge. Exit 2 on an invalid file or on an object RabbitMQ cannot change in place (--force recreates it).'
  static override examples = [
    '<%= config.bin %> provision',
    '<%= config.bin %> provision --dry-run',
    '<%= config.bin %> provision --dry-run --tree --file my-change.json',
    '<%= config.bin %> provision --file my-export.json --file extra.json --json',
    '<%= config.bin %> provision --force --yes',
    '<%= config.bin %> provision --export backup.json --vhost ecommerce',
    '<%= config.bin %> provision --file export.json --target-version 4.0 --strict',
  ]

  static override flags = {
    file: Flags.string({
      char: 'f',
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Definitions file (repeatable; default: the fixture).',
    }),
    'dry-run': Flags.boolean({summary: 'Print the plan; change nothing.'}),
    tree: Flags.boolean({
      summary:
        'With --dry-run: show the plan as the topology tree, marking what is added (+), changed (~) or in conflict (!).',
    }),
    'queue-type': Flags.option({
      options: ['classic', 'quorum'] as const,
      summary:
        'quorum: declare the work queues as quorum queues (delivery limit 20, at-least-once dead-lettering); for a cluster (evt up --nodes 3). See docs/cluster.md.',
    })(),
    force: Flags.boolean({summary: 'Delete and recreate conflicting exchanges/queues (queues lose their messages).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask before --force deletes.'}),
    'delete-guest': Flags.boolean({summary: 'Delete the guest user (refused if no other administrator would remain).'}),
    export: Flags.string({
      summary: "Write the broker's current definitions to this file instead (all vhosts or --vhost).",
    }),
    all: Flags.boolean({summary: 'List unchanged and skipped objects too.'}),
    strict: Flags.boolean({
      summary: "Refuse (exit 2, nothing applied) when the file relies on what the broker's version removed or denies.",
    }),
    'target-version': Flags.string({
      summary: 'Lint the file(s) for this RabbitMQ version (e.g. 4.0) without a broker; nothing is applied.',
    }),
  }

  async run(): Promise<ProvisionCommandResult> {
    const {flags} = this
    const lib = await import('../topology/provision.js')
    const {formatFindings, formatGeneratedPasswords, formatProvisionResult} = await import('../topology/report.js')
    const target = flags['target-version']
    if (target) {
      if (!/^\d+\.\d+(\.\d+)?$/.test(target)) {
        throw new UsageError(`--target-version "${target}" is not a version`, 'Give major.minor[.patch], e.g. 4.0')
      }
      const findings = await lib.lintFiles({files: flags.file, version: target})
      if (!this.jsonEnabled()) this.log(formatFindings(findings, target))
      const stopping = findings.filter((f) => f.severity === 'error' || flags.strict)
      if (stopping.length > 0) {
        throw new UsageError(
          `${stopping.length} finding(s) for RabbitMQ ${target}`,
          flags.strict ? 'Fix them before upgrading (or drop --strict to see them as warnings)' : 'Fix them',
          {findings},
        )
      }
      return {targetVersion: target, findings}
    }
    const {managementUrl} = await this.connection()
    if (flags.export) {
      const defs = await lib.exportDefinitions({managementUrl, vhost: flags.vhost})
      await writeFile(flags.export, `${JSON.stringify(defs, null, 2)}\n`, {mode: 0o600})
      const objects = defs.exchanges.length + defs.queues.length + defs.bindings.length
      this.info(`Wrote ${flags.export}: ${defs.vhosts.length} vhost(s), ${objects} exchanges/queues/bindings.`)
      return {exported: flags.export, vhosts: defs.vhosts.length, objects}
    }
    if (flags.force && !flags.yes && !flags['dry-run'] && !this.canPrompt()) {
      throw new UsageError('--force needs --yes when evt cannot ask (no TTY, --json or --no-input)')
    }
    if (flags.tree && !flags['dry-run']) {
      throw new UsageError('--tree shows a plan without applying it', 'Add --dry-run')
    }
    const progress = process.stderr.isTTY && !this.jsonEnabled()
    const result = await lib.provision({
      managementUrl,
      files: flags.file,
      vhost: flags.vhost,
      dryRun: flags['dry-run'],
      preview: flags.tree,
      force: flags.force,
      deleteGuest: flags['delete-guest'],
      strict: flags.strict,
      queueType: flags['queue-type'],
      home: stateHome(),
      confirmForce: flags.yes ? undefined : (conflicts) => this.confirm(conflicts),
      onProgress: progress ? (done, total) => process.stderr.write(`\rapplying ${done}/${total}`) : undefined,
    })
    if (progress) process.stderr.write('\r\u001b[K')
    const passwords = formatGeneratedPasswords(result)
    if (passwords) this.info(passwords)
    for (const w of result.warnings) this.info(`warning: ${w}`)
    for (const f of result.findings) this.info(`${f.severity}: ${f.path}: ${f.message}`)
    const {preview, ...rest} = result
    if (!this.jsonEnabled()) {
      if (preview) {
        const {formatPlanTree} = await import('../topology/view/diff-report.js')
        this.log(formatPlanTree(result, preview, {color: colorEnabled(), width: process.stdout.columns}))
      } else this.log(formatProvisionResult(result, {all: flags.all}))
    }
    const conflicts = result.objects.filter((o) => o.action === 'conflict')
    if (conflicts.length > 0) throw lib.conflictError(conflicts)
    if (!preview) return result
    const {previewJson} = await import('../topology/view/diff-report.js')
    return {...rest, diff: previewJson(preview)}
  }

  private async confirm(conflicts: PlanItem[]): Promise<boolean> {
    const {confirm} = await import('@inquirer/prompts')
    const names = conflicts.map(planLabel).join(', ')
    const queues = conflicts.some((c) => c.section === 'queues') ? ' Deleted queues lose their messages.' : ''
    return confirm({message: `Delete and recreate ${names}?${queues}`, default: false})
  }
}
