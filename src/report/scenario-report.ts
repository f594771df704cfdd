import type {ScenarioListing, ScenarioReport, ScenarioResult} from '../scenarios/types.js'
import {renderTable} from './table.js'
import {colorEnabled, painter} from './terminal.js'

const SOURCE_TEXT = {
  'evt-up': 'recorded by `evt up`',
  url: 'given by --url / RABBITMQ_URL',
  throwaway: 'started for this run, removed afterwards',
}

/** The human report: per scenario a table of checks and a verdict line; then the comparison and totals. */
export function formatScenarioReport(report: ScenarioReport): string {
  const paint = painter(colorEnabled())
  const out: string[] = [
    paint('dim', `Broker: ${report.broker.runtime} at ${report.broker.url} (${SOURCE_TEXT[report.broker.source]})`),
    '',
  ]
  for (const s of report.scenarios) out.push(...formatScenario(s, paint), '')
  if (report.comparison) {
    out.push('Deliveries per consumer:')
    const width = Math.max(...report.comparison.map((c) => c.deliveries.length))
    const rows = Array.from({length: width}, (_, i) => [
      `consumer ${i + 1}`,
      ...report.comparison!.map((c) => (c.deliveries[i] === undefined ? '' : c.deliveries[i])),
    ])
    rows.push(['total', ...report.comparison.map((c) => c.deliveries.reduce((a, b) => a + b, 0))])
    out.push(
      renderTable(['', ...report.comparison.map((c) => c.scenario)], rows, {
        colAligns: ['left', ...report.comparison.map(() => 'right' as const)],
      }),
      '',
    )
  }
  const t = report.totals
  const line = `${t.scenarios} scenario${t.scenarios === 1 ? '' : 's'}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped; ${t.checks} check${t.checks === 1 ? '' : 's'}: ${t.checksPassed} passed, ${t.checksFailed} failed (${report.seconds.toFixed(1)} s)`
  out.push(paint(t.failed > 0 ? 'red' : 'green', line))
  return out.join('\n')
}

function formatScenario(s: ScenarioResult, paint: ReturnType<typeof painter>): string[] {
  const head = `${paint('bold', s.name)} — ${s.summary}`
  if (s.status === 'skipped') return [head, paint('yellow', `SKIP ${s.name}: ${s.reason}`)]
  const rows = s.checks.map((c) => [
    c.check,
    c.expected,
    truncate(c.observed, 60),
    c.status === 'pass' ? paint('green', 'pass') : c.status === 'fail' ? paint('red', 'FAIL') : 'skip',
  ])
  const failed = s.checks.filter((c) => c.status === 'fail').length
  const verdict =
    s.status === 'passed'
      ? paint(
          'green',
          `PASS ${s.name}: ${s.checks.length}/${s.checks.length} checks passed (${s.seconds.toFixed(1)} s)`,
        )
      : paint('red', `FAIL ${s.name}: ${failed} of ${s.checks.length} checks failed (${s.seconds.toFixed(1)} s)`)
  return [
    head,
    // colAligns given explicitly: renderTable passes undefined through, which cli-table3 cannot take.
    renderTable(['check', 'expected', 'observed', 'result'], rows, {colAligns: ['left', 'left', 'left', 'left']}),
    ...s.notes.map((n) => paint('dim', `  ${n}`)),
    verdict,
  ]
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** `evt scenario --list`: name, what it proves, typical seconds. */
export function formatScenarioList(list: ScenarioListing[]): string {
  return renderTable(
    ['name', 'what it proves', 'seconds', 'needs'],
    list.map((s) => [s.name, wrap(s.summary, 70), `~${s.typicalSeconds}`, s.requires.join(', ')]),
    {colAligns: ['left', 'left', 'right', 'left']},
  )
}

function wrap(text: string, width: number): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines.join('\n')
}
