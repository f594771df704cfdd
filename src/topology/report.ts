import {renderTable} from '../report/table.js'
import {passwordEnvName} from './passwords.js'
import type {ProvisionResult} from './provision.js'

const KIND_ORDER = ['vhost', 'user', 'permission', 'topic_permission', 'policy', 'exchange', 'queue', 'binding']

/** Per-kind counts, then the objects that change (all objects with `all`). */
export function formatProvisionResult(result: ProvisionResult, options: {all?: boolean} = {}): string {
  const byKind = new Map<string, Record<string, number>>()
  for (const o of result.objects) {
    const row = byKind.get(o.kind) ?? {}
    row[o.action] = (row[o.action] ?? 0) + 1
    byKind.set(o.kind, row)
  }
  const cols = result.dryRun ? ['create', 'update', 'unchanged', 'conflict'] : ['created', 'updated', 'unchanged']
  if (!result.dryRun && result.objects.some((o) => o.action === 'recreated')) cols.splice(2, 0, 'recreated')
  if (result.dryRun && result.objects.some((o) => o.action === 'recreate')) cols[3] = 'recreate'
  const kinds = [...byKind.keys()].sort((a, b) => KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b))
  const summary = renderTable(
    ['object', ...cols],
    kinds.map((k) => [k, ...cols.map((c) => byKind.get(k)?.[c] ?? 0)]),
    {colAligns: ['left', ...cols.map(() => 'right' as const)]},
  )
  const shown = result.objects.filter((o) => options.all || o.action !== 'unchanged')
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
  const {created, updated, unchanged, conflicts} = result.counts
  if (result.dryRun) {
    parts.push(
      `Dry run: ${created} to create, ${updated} to update, ${unchanged} unchanged, ${conflicts} conflict(s); nothing was applied.`,
    )
  } else if (!result.changed) {
    parts.push(`No changes: all ${total} objects are up to date.`)
  } else {
    parts.push(`Applied: ${created} created, ${updated} updated, ${unchanged} unchanged (${total} objects).`)
  }
  if (result.guest === 'deleted') parts.push('Deleted the guest user.')
  if (result.guest === 'would delete') parts.push('Would delete the guest user.')
  return parts.join('\n')
}

/** Shown once on stderr: the passwords this run generated. */
export function formatGeneratedPasswords(result: ProvisionResult): string | undefined {
  const generated = result.generatedPasswords
  if (!generated || Object.keys(generated).length === 0) return undefined
  const lines = Object.entries(generated).map(
    ([user, pw]) => `  ${user}: ${pw}   (set ${passwordEnvName(user)} to choose your own)`,
  )
  return [`Generated password(s), shown once and saved in ${result.passwordsFile} (0600):`, ...lines].join('\n')
}
