import type {BenchExpectations} from './options.js'

export interface ThresholdResult {
  name: 'publish-rate' | 'consume-rate' | 'p99'
  flag: string
  /** msg/s for rates, ms for p99. */
  unit: 'msg/s' | 'ms'
  expected: number
  actual: number
  /** Rates must be at least expected; p99 at most. */
  comparison: '>=' | '<='
  passed: boolean
}

export interface MeasuredFigures {
  publishRate: number
  consumeRate: number
  p99Ms: number
}

/** Compare what was measured with what CI expects. Only the thresholds given are checked. */
export function evaluateThresholds(measured: MeasuredFigures, expect: BenchExpectations): ThresholdResult[] {
  const results: ThresholdResult[] = []
  if (expect.publishRate !== undefined) {
    results.push(atLeast('publish-rate', '--expect-publish-rate', 'msg/s', expect.publishRate, measured.publishRate))
  }
  if (expect.consumeRate !== undefined) {
    results.push(atLeast('consume-rate', '--expect-consume-rate', 'msg/s', expect.consumeRate, measured.consumeRate))
  }
  if (expect.p99Ms !== undefined) {
    const actual = measured.p99Ms
    results.push({
      name: 'p99',
      flag: '--expect-p99',
      unit: 'ms',
      expected: expect.p99Ms,
      actual,
      comparison: '<=',
      passed: actual <= expect.p99Ms,
    })
  }
  return results
}

function atLeast(
  name: ThresholdResult['name'],
  flag: string,
  unit: ThresholdResult['unit'],
  expected: number,
  actual: number,
): ThresholdResult {
  return {name, flag, unit, expected, actual, comparison: '>=', passed: actual >= expected}
}

/** One line per missed threshold, e.g. "publish rate 8,120 msg/s is below --expect-publish-rate 10,000". */
export function describeMisses(results: readonly ThresholdResult[]): string[] {
  return results
    .filter((r) => !r.passed)
    .map((r) => {
      const label = r.name === 'p99' ? 'latency p99' : r.name.replace('-', ' ')
      const actual = r.unit === 'ms' ? `${formatMs(r.actual)} ms` : `${formatInt(r.actual)} msg/s`
      const expected = r.unit === 'ms' ? `${formatMs(r.expected)}` : formatInt(r.expected)
      const side = r.comparison === '>=' ? 'below' : 'above'
      return `${label} ${actual} is ${side} ${r.flag} ${expected}`
    })
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

export function formatMs(n: number): string {
  if (n >= 100) return n.toFixed(0)
  if (n >= 10) return n.toFixed(1)
  return n.toFixed(2)
}
