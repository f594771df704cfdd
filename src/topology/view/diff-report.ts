import {painter} from '../../ui/terminal.js'
import type {ProvisionResult} from '../provision.js'
import {countMarks, type DiffMark, type PlanPreview} from './diff.js'
import {buildGraph} from './graph.js'
import {renderTree} from './tree.js'

/** `evt provision --dry-run --tree`: the plan drawn as the topology tree with its marks, and a one-line legend. */
export function formatPlanTree(
  result: ProvisionResult,
  preview: PlanPreview,
  options: {color: boolean; width?: number},
): string {
  const paint = painter(options.color)
  const graph = buildGraph(preview.definitions, {vhosts: preview.vhosts})
  const tree = renderTree(graph, preview.definitions, {paint, width: options.width, marks: preview.marks})
  const c = countMarks(preview.marks)
  const {created, updated, conflicts} = result.counts
  const others = result.objects.filter((o) => !['exchange', 'queue', 'binding', 'vhost'].includes(o.kind))
  const otherChanges = others.filter((o) => o.action !== 'unchanged' && o.action !== 'skip').length
  const legend = [
    `${paint('green', '+')} new ${c.add}`,
    `${paint('yellow', '~')} changed ${c.change}`,
    ...(c.recreate > 0 ? [`${paint('yellow', '±')} recreated ${c.recreate}`] : []),
    ...(c.remove > 0 ? [`${paint('red', '-')} removed ${c.remove}`] : []),
    `${paint('red', '!')} conflict ${c.conflict}`,
    `not in the files (left as is) ${c.kept}`,
  ].join(' · ')
  return [
    tree || '(no vhost, exchange, queue or binding in the plan)',
    '',
    legend,
    ...(otherChanges > 0
      ? [`Also ${otherChanges} user/permission/policy/parameter change(s): run without --tree to list them.`]
      : []),
    `Dry run: ${created} to create, ${updated} to update, ${conflicts} conflict(s); nothing was applied.`,
  ].join('\n')
}

/** The marks as data for --json: one entry per marked object. */
export interface PreviewJson {
  vhosts: string[]
  objects: {kind: string; vhost: string; name: string; mark: DiffMark; reason?: string}[]
}

export function previewJson(preview: PlanPreview): PreviewJson {
  const objects = [...preview.marks.entries()].map(([key, entry]) => {
    const [kind, vhost, ...rest] = key.split('|')
    const name =
      kind === 'binding'
        ? `${rest[0] || '(default)'} → ${rest[1]} ${rest[2]} [${rest[3]}]`
        : kind === 'vhost'
          ? vhost
          : rest[0]
    return {kind, vhost, name, mark: entry.mark, ...(entry.reason ? {reason: entry.reason} : {})}
  })
  return {vhosts: preview.vhosts, objects}
}
