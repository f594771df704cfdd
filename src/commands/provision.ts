import {writeFile} from 'node:fs/promises'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {stateHome} from '../config/state.js'
import {UsageError} from '../errors.js'
import type {PlanItem} from '../topology/plan.js'
import type {ProvisionResult} from '../topology/provision.js'

export type ProvisionCommandResult = ProvisionResult | {exported: string; vhosts: number; objects: number}

export default class Provision extends BaseCommand<typeof Provision> {
  static override summary =
    'Apply RabbitMQ definitions (users, vhosts, permissions, policies, exchanges, queues, bindings): the seed systems by default.'
  static override description =
    'Idempotent: a second run changes nothing. Files are RabbitMQ definitions (what the management UI exports); several merge. Exit 2 on an invalid file or on an object RabbitMQ cannot change in place (--force recreates it).'
  static override examples = [
    '<%= config.bin %> provision',
    '<%= config.bin %> provision --dry-run',
    '<%= config.bin %> provision --file my-export.json --file extra.json --json',
    '<%= config.bin %> provision --force --yes',
    '<%= config.bin %> provision --export backup.json --vhost ecommerce',
  ]

  static override flags = {
    file: Flags.string({char: 'f', multiple: true, summary: 'Definitions file (repeatable; default: the fixture).'}),
    'dry-run': Flags.boolean({summary: 'Print the plan; change nothing.'}),
    force: Flags.boolean({summary: 'Delete and recreate conflicting exchanges/queues (queues lose their messages).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask before --force deletes.'}),
    'delete-guest': Flags.boolean({summary: 'Delete the guest user (refused if no other administrator would remain).'}),
    export: Flags.string({
      summary: "Write the broker's current definitions to this file instead (all vhosts or --vhost).",
    }),
    all: Flags.boolean({summary: 'List unchanged objects too.'}),
  }

  async run(): Promise<ProvisionCommandResult> {
    const {flags} = this
    const {managementUrl} = await this.connection()
    const lib = await import('../topology/provision.js')
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
    const {formatGeneratedPasswords, formatProvisionResult} = await import('../topology/report.js')
    const progress = process.stderr.isTTY && !this.jsonEnabled()
    const result = await lib.provision({
      managementUrl,
      files: flags.file,
      vhost: flags.vhost,
      dryRun: flags['dry-run'],
      force: flags.force,
      deleteGuest: flags['delete-guest'],
      home: stateHome(),
      confirmForce: flags.yes ? undefined : (conflicts) => this.confirm(conflicts),
      onProgress: progress ? (done, total) => process.stderr.write(`\rapplying ${done}/${total}`) : undefined,
    })
    if (progress) process.stderr.write('\r\u001b[K')
    const passwords = formatGeneratedPasswords(result)
    if (passwords) this.info(passwords)
    for (const w of result.warnings) this.info(`warning: ${w}`)
    if (!this.jsonEnabled()) this.log(formatProvisionResult(result, {all: flags.all}))
    const conflicts = result.objects.filter((o) => o.action === 'conflict')
    if (conflicts.length > 0) throw lib.conflictError(conflicts)
    return result
  }

  private async confirm(conflicts: PlanItem[]): Promise<boolean> {
    const {confirm} = await import('@inquirer/prompts')
    const names = conflicts.map((c) => c.label).join(', ')
    const queues = conflicts.some((c) => c.section === 'queues') ? ' Deleted queues lose their messages.' : ''
    return confirm({message: `Delete and recreate ${names}?${queues}`, default: false})
  }
}
