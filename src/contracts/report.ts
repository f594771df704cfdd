import {writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import type {Builder} from 'junit-report-builder'
import type {MessageResult} from './check.js'
import type {VerifyReport} from './verify.js'

/** One line per failed message: where it came from, its type, and each violation with its JSON path. */
export function formatResult(r: MessageResult): string {
  const head = `✗ #${r.seq} ${r.vhost}/${r.exchange || '(default)'} ${r.routingKey}${r.type ? ` (${r.type})` : ''}`
  return [head, ...r.violations.map((v) => `    ${v.path} ${v.message}`)].join('\n')
}

export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    `${report.messages} messages checked in ${report.seconds.toFixed(1)} s (${report.reason}): ${report.valid} valid, ${report.invalid} invalid, ${report.unknown} unknown`,
  ]
  for (const [type, n] of Object.entries(report.byType).sort())
    lines.push(`  ${type}: ${n.valid} valid${n.invalid > 0 ? `, ${n.invalid} failing` : ''}`)
  return lines.join('\n')
}

const require = createRequire(import.meta.url)

/** JUnit XML: one testcase per message checked (class: its type), a <failure> listing its violations. */
export function verifyJunit(report: VerifyReport): string {
  const builder = (require('junit-report-builder') as Builder).newBuilder()
  builder.name('evt verify')
  const suite = builder
    .testSuite()
    .name(`evt verify ${report.targets.join(' ')}`)
    .time(report.seconds)
  suite.property('envelope', report.envelope)
  suite.property('stopped', report.reason)
  for (const r of report.results) {
    const tc = suite
      .testCase()
      .className(`evt.contract.${r.type ?? 'unknown'}`)
      .name(`#${r.seq} ${r.exchange || '(default)'} ${r.routingKey}`)
    if (report.failures.includes(r))
      tc.failure(
        r.violations.map((v) => `${v.path} ${v.message}`).join('\n'),
        r.status === 'unknown' ? 'Unknown' : 'Contract',
      )
  }
  if (report.results.length === 0)
    suite
      .testCase()
      .className('evt.contract')
      .name('messages seen')
      .failure(report.problem ?? 'no message', 'NoMessages')
  return builder.build()
}

export async function writeVerifyJunit(report: VerifyReport, file: string): Promise<void> {
  await writeFile(file, `${verifyJunit(report)}\n`)
}
