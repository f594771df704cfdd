// biome-ignore-all lint/suspicious/noTemplateCurlyInString: scenario files use ${...} templates of their own
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {loadBuiltinScenarios, parseScenario, writtenChecks} from '../../src/scenarios/load.js'
import {judgeNegative, negativeRuns, writtenCheckPattern} from '../../src/scenarios/negatives.js'
import type {CheckResult, ScenarioResult} from '../../src/scenarios/types.js'

const file = (negatives: string) => `name: mine
summary: proves something
params:
  n: 3
  window: 10
steps:
  - check-queue: {queue: q}
    as: q
  - expect:
      - check: the queue is empty
        observed: \${q.messages}
        equals: 0
      - check: a window of \${params.window} is fast
        observed: 1
        equals: 1
      - check: it exists
        observed: \${q.exists}
        equals: true
${negatives}`

async function refusal(text: string): Promise<string> {
  try {
    await parseScenario(text, 'my.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error('expected the file to be refused')
}

describe('every check of every built-in is shown failing', () => {
  it('each check is named by a negative case of its scenario (a new check needs one)', async () => {
    const builtins = await loadBuiltinScenarios()
    const missing: string[] = []
    let checks = 0
    for (const def of builtins) {
      const covered = new Set(def.negatives.flatMap((n) => n.fails))
      for (const check of writtenChecks(def.steps)) {
        checks++
        if (!covered.has(check)) missing.push(`${def.name}: ${check}`)
      }
    }
    expect(missing, `checks no negative case makes fail:\n${missing.join('\n')}`).toEqual([])
    // The count the issue asks for: one negative verdict per check.
    const negativeVerdicts = builtins.reduce((n, d) => n + new Set(d.negatives.flatMap((x) => x.fails)).size, 0)
    expect(negativeVerdicts).toBe(checks)
    expect(checks).toBeGreaterThan(100)
  })
})

describe('negatives in a scenario file', () => {
  it('are checked at load time: a known parameter, checks that exist, with the line', async () => {
    expect(await refusal(file('negatives:\n  - because: x\n    params: {m: 1}\n    fails: [it exists]\n'))).toMatch(
      /my\.yaml:\d+: negatives\[0\]\.params\.m: params has no "m"/,
    )
    expect(await refusal(file('negatives:\n  - because: x\n    params: {n: 1}\n    fails: [it exist]\n'))).toMatch(
      /negatives\[0\]\.fails\[0\]: no check is named "it exist" \(did you mean "it exists"\?\)/,
    )
    expect(await refusal(file('negatives:\n  - because: x\n    params: {n: 1}\n    fails: []\n'))).toMatch(
      /name at least one check/,
    )
    expect(await refusal(file('negatives:\n  - params: {n: 1}\n    fails: [it exists]\n'))).toMatch(/because/)
    expect(
      await refusal(file('negatives:\n  - because: x\n    params: {n: 1}\n    fails: [it exists]\n    typo: 1\n')),
    ).toMatch(/negatives\[0\]\.typo: unknown key/)
  })

  it('a template in a check name is matched against the rendered name', () => {
    const pattern = writtenCheckPattern('a window of ${params.window} is fast (x)')
    expect(pattern.test('a window of 200 is fast (x)')).toBe(true)
    expect(pattern.test('a window of 200 is slow (x)')).toBe(false)
  })

  it('one run per negative case, and each is judged on exactly the checks it names', async () => {
    const def = await parseScenario(
      file(
        'negatives:\n  - because: a full queue\n    params: {n: 5}\n    fails: [the queue is empty]\n  - because: gone\n    params: {n: 6}\n    fails: [it exists]\n    mayAlsoFail: [the queue is empty]\n',
      ),
      'my.yaml',
    )
    const runs = negativeRuns([def])
    expect(runs.map((r) => r.negativeOf?.index)).toEqual([0, 1])
    const run = (failing: string[]): ScenarioResult => ({
      name: 'mine',
      summary: '',
      status: failing.length > 0 ? 'failed' : 'passed',
      seconds: 1,
      params: {},
      notes: [],
      checks: ['the queue is empty', 'a window of 10 is fast', 'it exists'].map(
        (check): CheckResult => ({
          check,
          expected: 'x',
          observed: 'y',
          status: failing.includes(check) ? 'fail' : 'pass',
        }),
      ),
    })
    // Caught: exactly the named check failed.
    const caught = judgeNegative(def, 0, run(['the queue is empty']))
    expect(caught.status).toBe('passed')
    expect(caught.name).toBe('mine (negative 1)')
    // Not caught: the named check passed (a check that cannot fail).
    expect(judgeNegative(def, 0, run([])).status).toBe('failed')
    // Caught, but another check failed too: not the promise that was broken.
    const spilled = judgeNegative(def, 0, run(['the queue is empty', 'a window of 10 is fast']))
    expect(spilled.status).toBe('failed')
    expect(spilled.checks.at(-1)?.observed).toMatch(/a window of 10 is fast/)
    // mayAlsoFail: a side effect may fail or pass.
    expect(judgeNegative(def, 1, run(['it exists', 'the queue is empty'])).status).toBe('passed')
    expect(judgeNegative(def, 1, run(['it exists'])).status).toBe('passed')
    // An errored run is an error, not a verdict.
    expect(judgeNegative(def, 0, {...run([]), status: 'errored', reason: 'broker gone'}).status).toBe('errored')
  })
})
