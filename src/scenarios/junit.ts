import {writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import type {Builder} from 'junit-report-builder'
import type {ScenarioReport} from './types.js'

const require = createRequire(import.meta.url)

/**
 * JUnit XML for CI: one testsuite per scenario, one testcase per check; a failed check is a <failure>
 * with expected and observed; a skipped scenario is one skipped testcase saying why; a scenario that errored
 * (its broker failed, or the run was interrupted) has an <error> testcase, its checks so far kept.
 */
export function scenarioJunit(report: ScenarioReport): string {
  const builder = (require('junit-report-builder') as Builder).newBuilder()
  builder.name('evt scenarios')
  for (const s of report.scenarios) {
    const suite = builder
      .testSuite()
      .name(s.broker ? `${s.name} @ ${s.broker}` : s.name)
      .time(s.seconds)
    if (s.broker) suite.property('broker', s.broker)
    suite.property('summary', s.summary)
    if (s.vhost) suite.property('vhost', s.vhost)
    for (const [k, v] of Object.entries(s.params)) suite.property(`param.${k}`, String(v))
    if (s.status === 'errored') {
      // The checks that ran keep their verdicts; the scenario's own testcase says why it has none of its own.
      suite
        .testCase()
        .className(className(s))
        .name(`${s.name} ran to a verdict`)
        .error(s.reason ?? 'error', s.reason?.startsWith('interrupted') ? 'Interrupted' : 'ScenarioError')
    }
    if (s.status === 'skipped') {
      suite.testCase().className(className(s)).name(`${s.name} (skipped: ${s.reason})`).skipped()
      continue
    }
    for (const c of s.checks) {
      const tc = suite.testCase().className(className(s)).name(c.check)
      if (c.status === 'fail') tc.failure(`expected ${c.expected}, observed ${c.observed}`, 'CheckFailed')
      else if (c.status === 'skip') tc.skipped()
    }
  }
  return builder.build()
}

function className(s: {name: string; broker?: string}): string {
  return s.broker ? `evt.scenario.${s.broker}.${s.name}` : `evt.scenario.${s.name}`
}

export async function writeScenarioJunit(report: ScenarioReport, file: string): Promise<void> {
  await writeFile(file, `${scenarioJunit(report)}\n`)
}
