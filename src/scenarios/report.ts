import {renderTable} from '../ui/table.js'
import {colorEnabled, painter} from '../ui/terminal.js'
import type {ScenarioListing, ScenarioReport, ScenarioResult} from './types.js'

const SOURCE_TEXT = {
  'evt-up': 'recorded by `evt up`',
  url: 'given by --url / RABBITMQ_URL',
  throwaway: 'started for this run, removed afterwards',
}

/** The human report: per scenario a table of checks and a verdict line; then the comparison and totals. */
export function formatScenarioReport(report: ScenarioReport): string {
  const paint = painter(colorEnabled())
  const out: string[] = [formatBrokerLine(report.broker), '']
  for (const s of report.scenarios) out.push(...formatScenario(s, paint), '')
  out.push(formatScenarioSummary(report))
  return out.join('\n')
}

export function formatBrokerLine(broker: ScenarioReport['broker'], name?: string): string {
  return painter(colorEnabled())(
    'dim',
    `Broker${name ? ` ${name}` : ''}: ${broker.runtime} at ${broker.url} (${SOURCE_TEXT[broker.source]})`,
  )
}

/** One scenario's block (printed as soon as it finishes). */
export function formatScenarioResult(s: ScenarioResult): string {
  return `${formatScenario(s, painter(colorEnabled())).join('\n')}\n`
}

/** What follows the scenario blocks: the side-by-side comparison and the totals line. */
export function formatScenarioSummary(report: ScenarioReport): string {
  const paint = painter(colorEnabled())
  const out: string[] = []
  if (report.interrupted) out.push(paint('yellow', `Interrupted (${report.interrupted}): the report covers what ran.`))
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
  for (const b of report.brokers ?? []) {
    const mine = report.scenarios.filter((s) => s.broker === b.name)
    const passed = mine.filter((s) => s.status === 'passed').length
    const failed = mine.filter((s) => s.status === 'failed' || s.status === 'errored').length
    const skipped = mine.filter((s) => s.status === 'skipped').length
    out.push(`${b.name}: ${passed} passed, ${failed} failed, ${skipped} skipped`)
  }
  const t = report.totals
  const errored = t.errored > 0 ? `, ${t.errored} errored` : ''
  const skippedChecks = t.checksSkipped > 0 ? `, ${t.checksSkipped} skipped` : ''
  const line = `${t.scenarios} scenario${t.scenarios === 1 ? '' : 's'}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped${errored}; ${t.checks} check${t.checks === 1 ? '' : 's'}: ${t.checksPassed} passed, ${t.checksFailed} failed${skippedChecks} (${report.seconds.toFixed(1)} s)`
  out.push(paint(t.failed > 0 || t.errored > 0 ? 'red' : 'green', line))
  return out.join('\n')
}

function formatScenario(s: ScenarioResult, paint: ReturnType<typeof painter>): string[] {
  const head = `${paint('bold', s.name)}${s.broker ? ` @ ${s.broker}` : ''} — ${s.summary}`
  if (s.status === 'skipped') return [head, paint('yellow', `SKIP ${s.name}: ${s.reason}`)]
  if (s.status === 'errored' && s.checks.length === 0) return [head, paint('red', `ERROR ${s.name}: ${s.reason}`)]
  const rows = s.checks.map((c) => [
    c.check,
    c.expected,
    truncate(c.observed, 60),
    c.status === 'pass' ? paint('green', 'pass') : c.status === 'fail' ? paint('red', 'FAIL') : paint('yellow', 'skip'),
  ])
  const failed = s.checks.filter((c) => c.status === 'fail').length
  const verdict =
    s.status === 'errored'
      ? paint('red', `ERROR ${s.name}: ${s.reason} (${s.seconds.toFixed(1)} s)`)
      : s.status === 'passed'
        ? paint(
            'green',
            `PASS ${s.name}: ${passedCount(s)}/${s.checks.length} checks passed${skippedNote(s)} (${s.seconds.toFixed(1)} s)`,
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

function passedCount(s: ScenarioResult): number {
  return s.checks.filter((c) => c.status === 'pass').length
}

function skippedNote(s: ScenarioResult): string {
  const n = s.checks.filter((c) => c.status === 'skip').length
  return n > 0 ? `, ${n} skipped` : ''
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** `evt scenario --list`: name, what it proves, typical seconds. */
export function formatScenarioList(list: ScenarioListing[]): string {
  return renderTable(
    ['name', 'what it proves', 'seconds', 'checks', 'negatives', 'needs'],
    list.map((s) => [
      s.name,
      wrap(s.summary, 64),
      `~${s.typicalSeconds}`,
      String(s.checks.length),
      String(s.negatives),
      s.requires.join(', '),
    ]),
    {colAligns: ['left', 'left', 'right', 'right', 'right', 'left']},
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
