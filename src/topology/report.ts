import {renderTable} from '../ui/table.js'
import type {LintFinding} from './lint.js'
import {KIND_ORDER, type ObjectKind} from './model.js'
import {passwordEnvName} from './passwords.js'
import type {ProvisionResult} from './provision.js'

/** `--target-version`: one line per finding. */
export function formatFindings(findings: LintFinding[], version: string): string {
  if (findings.length === 0) return `No findings for RabbitMQ ${version}.`
  return [
    ...findings.map((f) => `${f.severity}: ${f.path}: ${f.message}`),
    `${findings.length} finding(s) for RabbitMQ ${version}.`,
  ].join('\n')
}

/** Per-kind counts, then the objects that change (all objects with `all`). */
export function formatProvisionResult(result: ProvisionResult, options: {all?: boolean} = {}): string {
  const byKind = new Map<ObjectKind, Record<string, number>>()
  for (const o of result.objects) {
    const row = byKind.get(o.kind) ?? {}
    row[o.action] = (row[o.action] ?? 0) + 1
    byKind.set(o.kind, row)
  }
  const cols = result.dryRun ? ['create', 'update', 'unchanged', 'conflict'] : ['created', 'updated', 'unchanged']
  if (!result.dryRun && result.objects.some((o) => o.action === 'recreated')) cols.splice(2, 0, 'recreated')
  if (result.objects.some((o) => o.action === 'skip' || o.action === 'skipped')) {
    cols.push(result.dryRun ? 'skip' : 'skipped')
  }
  if (result.dryRun && result.objects.some((o) => o.action === 'recreate')) cols[3] = 'recreate'
  const kinds = [...byKind.keys()].sort((a, b) => KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b))
  const summary = renderTable(
    ['object', ...cols],
    kinds.map((k) => [k, ...cols.map((c) => byKind.get(k)?.[c] ?? 0)]),
    {colAligns: ['left', ...cols.map(() => 'right' as const)]},
  )
  const quiet = new Set(['unchanged', 'skip', 'skipped'])
  const shown = result.objects.filter((o) => options.all || !quiet.has(o.action))
  const parts = [summary]
  if (shown.length > 0) {
    parts.push(
      renderTable(
        ['object', 'name', result.dryRun ? 'plan' : 'result', 'detail'],
        shown.map((o) => [
          o.kind,
          o.name,
          o.action,
          o.existing ? `exists: ${o.existing}\nwanted: ${o.wanted}` : (o.reason ?? ''),
        ]),
        // cli-table3 breaks on an explicit undefined colAligns.
        {colAligns: ['left', 'left', 'left', 'left']},
      ),
    )
  }
  const total = result.objects.length
  const {created, updated, unchanged, conflicts, skipped} = result.counts
  const skips = result.objects.filter((o) => o.action === 'skip' || o.action === 'skipped')
  if (skips.length > 0) {
    // One note per reason, as RabbitMQ logs one warning per skipped object.
    const byReason = new Map<string, string[]>()
    for (const o of skips)
      byReason.set(o.reason ?? '', [...(byReason.get(o.reason ?? '') ?? []), `${o.kind} ${o.name}`])
    for (const [reason, names] of byReason) {
      const list = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ')
      parts.push(`Skipped ${list}: ${reason}.`)
    }
  }
  const skippedNote = skipped > 0 ? `, ${skipped} skipped` : ''
  if (result.dryRun) {
    parts.push(
      `Dry run: ${created} to create, ${updated} to update, ${unchanged} unchanged${skippedNote}, ${conflicts} conflict(s); nothing was applied.`,
    )
  } else if (!result.changed) {
    parts.push(`No changes: all ${total - skipped} objects are up to date${skippedNote}.`)
  } else {
    parts.push(
      `Applied: ${created} created, ${updated} updated, ${unchanged} unchanged${skippedNote} (${total} objects).`,
    )
  }
  if (result.guest === 'deleted') parts.push('Deleted the guest user.')
  if (result.guest === 'would delete') parts.push('Would delete the guest user.')
  return parts.join('\n')
}

/** On stderr: whose password this run generated and where it is kept (the password itself is never printed). */
export function formatGeneratedPasswords(result: ProvisionResult): string | undefined {
  const users = result.generatedPasswordsFor
  if (!users || users.length === 0) return undefined
  const lines = users.map((user) => `  ${user}   (set ${passwordEnvName(user)} to choose your own)`)
  return [`Generated a password for these users, saved in ${result.passwordsFile} (0600):`, ...lines].join('\n')
}
