import {writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import type {Builder} from 'junit-report-builder'
import type {ScenarioReport} from '../scenarios/types.js'

const require = createRequire(import.meta.url)

/**
 * JUnit XML for CI: one testsuite per scenario, one testcase per check; a failed check is a <failure>
 * with expected and observed; a skipped scenario is one skipped testcase saying why.
 */
export function scenarioJunit(report: ScenarioReport): string {
  const builder = (require('junit-report-builder') as Builder).newBuilder()
  builder.name('evt scenarios')
  for (const s of report.scenarios) {
    const suite = builder.testSuite().name(s.name).time(s.seconds)
    suite.property('summary', s.summary)
    if (s.vhost) suite.property('vhost', s.vhost)
    for (const [k, v] of Object.entries(s.params)) suite.property(`param.${k}`, String(v))
    if (s.status === 'skipped') {
      suite.testCase().className(`evt.scenario.${s.name}`).name(`${s.name} (skipped: ${s.reason})`).skipped()
      continue
    }
    for (const c of s.checks) {
      const tc = suite.testCase().className(`evt.scenario.${s.name}`).name(c.check)
      if (c.status === 'fail') tc.failure(`expected ${c.expected}, observed ${c.observed}`, 'CheckFailed')
      else if (c.status === 'skip') tc.skipped()
    }
  }
  return builder.build()
}

export async function writeScenarioJunit(report: ScenarioReport, file: string): Promise<void> {
  await writeFile(file, `${scenarioJunit(report)}\n`)
}
