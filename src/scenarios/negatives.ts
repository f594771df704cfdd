import type {CheckResult, Negative, ScenarioDefinition, ScenarioResult} from './types.js'

/**
 * Negative cases prove a scenario can fail: each runs the scenario with parameters that break its promise,
 * and passes only when exactly the checks it names fail (a check that cannot fail proves nothing).
 */

/** One copy of each scenario per negative case, in order; a scenario without negatives contributes none. */
export function negativeRuns(defs: ScenarioDefinition[]): ScenarioDefinition[] {
  return defs.flatMap((def) => def.negatives.map((_, index) => ({...def, negativeOf: {index}})))
}

/** The name a negative run reports under: `durability (negative 2)`. */
export function negativeName(def: ScenarioDefinition, index: number): string {
  return `${def.name} (negative ${index + 1})`
}

/** A check as written (`every publish in a window of ${params.window} is acked`) as a pattern over results. */
export function writtenCheckPattern(written: string): RegExp {
  const parts = written.split(/\$\{[^}]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('.*')}$`, 's')
}

/**
 * The verdict of a negative run, as a scenario result of its own: one check per named check ("it fails"),
 * and one that every other check kept passing; a note says how many of the run's own checks failed.
 */
export function judgeNegative(def: ScenarioDefinition, index: number, run: ScenarioResult): ScenarioResult {
  const negative: Negative = def.negatives[index]
  const base: ScenarioResult = {
    ...run,
    name: negativeName(def, index),
    summary: negative.because,
    checks: [],
    notes: [],
  }
  if (run.status === 'skipped' || run.status === 'errored') return base
  const failed = run.checks.filter((c) => c.status === 'fail')
  const matches = (written: string) => (c: CheckResult) => writtenCheckPattern(written).test(c.check)
  const checks: CheckResult[] = negative.fails.map((written) => {
    const seen = run.checks.find(matches(written))
    // A check keyed to another broker version (when: {rabbitmq: ...}) does not run here: not a verdict.
    if (!seen)
      return {check: `it fails: ${written}`, expected: 'fail', observed: 'not run on this broker', status: 'skip'}
    if (seen.status === 'skip')
      return {check: `it fails: ${written}`, expected: 'fail', observed: `skipped: ${seen.observed}`, status: 'skip'}
    return {
      check: `it fails: ${written}`,
      expected: 'fail',
      observed: `${seen.status} (observed ${seen.observed}, expected ${seen.expected})`,
      status: seen.status === 'fail' ? 'pass' : 'fail',
    }
  })
  const allowed = [...negative.fails, ...negative.mayAlsoFail]
  const others = failed.filter((c) => !allowed.some((written) => matches(written)(c)))
  checks.push({
    check: 'every other check keeps passing',
    expected: 'no other failure',
    observed: others.length === 0 ? 'none failed' : others.map((c) => `${c.check}: ${c.observed}`).join('; '),
    status: others.length === 0 ? 'pass' : 'fail',
  })
  const judged = checks.filter((c) => c.status !== 'skip')
  if (judged.length === 1 && others.length === 0)
    return {...base, status: 'skipped', reason: 'none of the checks it names ran to a verdict here', checks}
  return {
    ...base,
    status: judged.every((c) => c.status === 'pass') ? 'passed' : 'failed',
    checks,
    notes: [`with ${JSON.stringify(negative.params)}: ${failed.length} of ${run.checks.length} checks failed`],
  }
}
