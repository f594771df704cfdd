import {describe, expect, it} from 'vitest'
import {scenarioJunit} from '../../src/scenarios/junit.js'
import {formatScenarioReport} from '../../src/scenarios/report.js'
import {reportExitCode, totals} from '../../src/scenarios/runner.js'
import type {ScenarioReport, ScenarioResult} from '../../src/scenarios/types.js'

const scenarios: ScenarioResult[] = [
  {
    name: 'fanout',
    summary: 'every subscriber gets every message',
    status: 'failed',
    seconds: 1.2,
    params: {messages: 10},
    notes: ['a note'],
    deliveriesPerConsumer: [10, 10],
    checks: [
      {check: 'each subscriber gets all', expected: '= 10', observed: '5', status: 'fail'},
      {check: 'queues are server-named', expected: 'matches ^amq', observed: 'amq.gen-x', status: 'pass'},
    ],
  },
  {
    name: 'load-balanced',
    summary: 'once each',
    status: 'passed',
    seconds: 0.5,
    params: {},
    notes: [],
    deliveriesPerConsumer: [6, 4],
    checks: [{check: 'every message <once> & "quoted"', expected: '= 10', observed: '10', status: 'pass'}],
  },
  {
    name: 'durability',
    summary: 'survives restarts',
    status: 'skipped',
    reason: 'needs to restart the broker',
    seconds: 0,
    params: {},
    notes: [],
    checks: [],
  },
]
const report: ScenarioReport = {
  broker: {runtime: 'external', url: 'amqp://u:****@h:5672', source: 'url'},
  scenarios,
  totals: totals(scenarios),
  seconds: 1.7,
  comparison: [
    {scenario: 'fanout', deliveries: [10, 10]},
    {scenario: 'load-balanced', deliveries: [6, 4]},
  ],
}

/** A tiny XML reader: the elements we care about, with their attributes, in document order. */
function elements(xml: string, name: string): Record<string, string>[] {
  const out: Record<string, string>[] = []
  for (const m of xml.matchAll(new RegExp(`<${name}(\\s[^>]*?)?\\s*/?>`, 'g'))) {
    const attrs: Record<string, string> = {}
    for (const a of (m[1] ?? '').matchAll(/([\w.-]+)="([^"]*)"/g)) attrs[a[1]] = a[2]
    out.push(attrs)
  }
  return out
}

describe('JUnit XML', () => {
  const xml = scenarioJunit(report)

  it('is one testsuite per scenario and one testcase per check', () => {
    expect(xml.startsWith('<?xml')).toBe(true)
    const suites = elements(xml, 'testsuite')
    expect(suites.map((s) => s.name)).toEqual(['fanout', 'load-balanced', 'durability'])
    expect(suites.map((s) => s.tests)).toEqual(['2', '1', '1'])
    expect(elements(xml, 'testcase')).toHaveLength(4)
    expect(elements(xml, 'testsuites')[0]).toMatchObject({tests: '4', failures: '1', skipped: '1'})
  })

  it('a failed check is a failure with expected and observed; a skipped scenario is skipped', () => {
    const failures = elements(xml, 'failure')
    expect(failures).toHaveLength(1)
    expect(failures[0].message).toBe('expected = 10, observed 5')
    expect(elements(xml, 'skipped')).toHaveLength(1)
    expect(xml).toMatch(
      /<testcase classname="evt\.scenario\.durability" name="durability \(skipped: needs to restart the broker\)">\s*<skipped\/>/,
    )
  })

  it('escapes check text', () => {
    expect(xml).toContain('every message &lt;once> &amp; &quot;quoted&quot;')
    // Balanced: every opened testsuite/testcase is closed.
    expect(xml.match(/<testsuite[ >]/g)?.length).toBe(xml.match(/<\/testsuite>/g)?.length)
  })
})

describe('the human report', () => {
  it('has a table and a verdict per scenario, the comparison and the totals', () => {
    const text = formatScenarioReport(report)
    expect(text).toMatch(/FAIL fanout: 1 of 2 checks failed/)
    expect(text).toMatch(/PASS load-balanced: 1\/1 checks passed/)
    expect(text).toMatch(/SKIP durability: needs to restart the broker/)
    expect(text).toMatch(/Deliveries per consumer:/)
    expect(text).toMatch(/consumer 2\s*│\s*10\s*│\s*4/)
    expect(text).toMatch(/3 scenarios: 1 passed, 1 failed, 1 skipped; 3 checks: 2 passed, 1 failed/)
    expect(text).not.toContain('\u001b[')
  })
  it('exit code 1 when any check failed, else 0 (skips do not fail)', () => {
    expect(reportExitCode(report)).toBe(1)
    const ok = [scenarios[1], scenarios[2]]
    expect(reportExitCode({...report, scenarios: ok, totals: totals(ok)})).toBe(0)
  })
  it('exit code 2 or 3 when a scenario errored on bad input or an unreachable broker (no verdict to give)', () => {
    const errored = (code?: 2 | 3) => ({...scenarios[1], status: 'errored' as const, errorExitCode: code})
    const run = (list: typeof scenarios) => reportExitCode({...report, scenarios: list, totals: totals(list)})
    expect(run([scenarios[0], errored(2)])).toBe(2)
    expect(run([errored(3), scenarios[1]])).toBe(3)
    expect(run([errored(3), errored(2)])).toBe(2)
    // An error that says nothing of whose it is stays a run without a verdict: 1.
    expect(run([errored(), scenarios[1]])).toBe(1)
  })
})
