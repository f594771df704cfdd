import {describe, expect, it} from 'vitest'
import {validateBenchOptions} from '../../../src/bench/options.js'
import {downsample, formatBenchReport, formatLiveLine, formatThroughputChart} from '../../../src/bench/report.js'
import type {BenchReport} from '../../../src/bench/run.js'
import {LatencyRecorder, median, ratePerSecond, ratio} from '../../../src/bench/stats.js'
import {describeMisses, evaluateThresholds} from '../../../src/bench/thresholds.js'

describe('LatencyRecorder', () => {
  it('reports percentiles in ms from values recorded in ms, to HdrHistogram precision', () => {
    const r = new LatencyRecorder()
    for (let i = 1; i <= 1000; i++) r.recordMs(i / 10) // 0.1 ms .. 100 ms
    const s = r.summary()
    expect(s.count).toBe(1000)
    expect(s.min).toBeCloseTo(0.1, 3)
    expect(s.p50).toBeCloseTo(50, 0)
    expect(s.p75).toBeCloseTo(75, 0)
    expect(s.p95).toBeCloseTo(95, 0)
    expect(s.p99).toBeCloseTo(99, 0)
    expect(s.p999).toBeCloseTo(99.9, 0)
    expect(s.max).toBeCloseTo(100, 0)
    // 3 significant digits: within 0.1 %
    expect(Math.abs(s.p99 - 99) / 99).toBeLessThan(0.001)
    expect(s.mean).toBeCloseTo(50.05, 1)
  })

  it('keeps sub-millisecond resolution and counts negative clock steps as the smallest value', () => {
    const r = new LatencyRecorder()
    r.recordMs(0.25)
    r.recordMs(-3)
    expect(r.count).toBe(2)
    expect(r.summary().max).toBeCloseTo(0.25, 3)
    expect(r.summary().min).toBeCloseTo(0.001, 3)
  })

  it('is all zeros when empty and after reset', () => {
    const r = new LatencyRecorder()
    expect(r.summary()).toMatchObject({count: 0, p50: 0, p99: 0, max: 0})
    r.recordMs(5)
    r.reset()
    expect(r.percentileMs(99)).toBe(0)
  })
})

describe('median, ratio, ratePerSecond', () => {
  it('computes medians of odd and even lengths without reordering the input', () => {
    const values = [3, 1, 2]
    expect(median(values)).toBe(2)
    expect(values).toEqual([3, 1, 2])
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })
  it('returns NaN for a ratio over zero, and 0 msg/s over no time', () => {
    expect(ratio(9, 10)).toBeCloseTo(0.9)
    expect(ratio(1, 0)).toBeNaN()
    expect(ratePerSecond(100, 0)).toBe(0)
    expect(ratePerSecond(100, 0.5)).toBe(200)
  })
})

describe('evaluateThresholds', () => {
  const measured = {publishRate: 9000, consumeRate: 12000, p99Ms: 14.2}

  it('checks only the thresholds given', () => {
    expect(evaluateThresholds(measured, {})).toEqual([])
  })

  it('passes rates at or above and p99 at or below the threshold', () => {
    const r = evaluateThresholds(measured, {publishRate: 9000, consumeRate: 10000, p99Ms: 14.2})
    expect(r.map((t) => t.passed)).toEqual([true, true, true])
  })

  it('names each figure that missed and its threshold', () => {
    const r = evaluateThresholds(measured, {publishRate: 10000, consumeRate: 5000, p99Ms: 10})
    expect(r.map((t) => [t.name, t.passed])).toEqual([
      ['publish-rate', false],
      ['consume-rate', true],
      ['p99', false],
    ])
    expect(describeMisses(r)).toEqual([
      'publish rate 9,000 msg/s is below --expect-publish-rate 10,000',
      'latency p99 14.2 ms is above --expect-p99 10.0',
    ])
  })
})

function sampleReport(overrides: Partial<BenchReport> = {}): BenchReport {
  const settings = validateBenchOptions({count: 1000, confirm: 100})
  return {
    settings,
    payload: {kind: 'random', bytes: 1000},
    vhost: 'evt-bench-1234',
    broker: {url: 'amqp://evt:****@127.0.0.1:5672', rabbitmqVersion: '3.10.8'},
    interrupted: false,
    counts: {published: 1000, confirmed: 1000, nacked: 0, consumed: 1000},
    seconds: {total: 3, publish: 2.5, confirm: 2.6, consume: 2.7},
    rates: {publish: 400, confirm: 385, consume: 370},
    latency: {count: 1000, min: 0.2, mean: 1, p50: 0.9, p75: 1.1, p95: 2, p99: 4.5, p999: 9, max: 10},
    confirmLatency: {count: 1000, min: 0.2, mean: 1, p50: 0.8, p75: 1, p95: 1.5, p99: 3, p999: 6, max: 7},
    series: [
      {second: 1, published: 300, confirmed: 290, consumed: 280, p50: 1, p99: 4},
      {second: 2, published: 500, confirmed: 480, consumed: 470, p50: 1, p99: 5},
      {second: 3, published: 200, confirmed: 230, consumed: 250, p50: 1, p99: 3},
    ],
    thresholds: [],
    passed: true,
    ...overrides,
  }
}

describe('formatBenchReport', () => {
  it('shows rates, every percentile for both latencies, a chart per series when not coloured, and thresholds', () => {
    const report = sampleReport()
    report.thresholds = evaluateThresholds({publishRate: 400, consumeRate: 370, p99Ms: 4.5}, {p99Ms: 2})
    const text = formatBenchReport(report)
    expect(text).toMatch(/published\s+│\s+1,000\s+│\s+2\.50\s+│\s+400/)
    expect(text).toMatch(/confirmed/)
    expect(text).toMatch(/publish → consume.*0\.90.*1\.10.*2\.00.*4\.50.*9\.00.*10\.0/)
    expect(text).toMatch(/publish → confirm/)
    expect(text).toMatch(/Throughput \(msg\/s over 3 s/)
    expect(text).toContain('MISS  p99 4.50 ms ≤ 2.00 ms expected (--expect-p99)')
    expect(text).not.toContain('\u001b[') // vitest's stdout is not a TTY
    // one small chart per series when there is no colour
    expect(text.match(/^(published|confirmed|consumed)$/gm)).toEqual(['published', 'confirmed', 'consumed'])
  })

  it('leaves out confirm rows without confirms and the chart for a run under 2 s', () => {
    const report = sampleReport({confirmLatency: null, series: [sampleReport().series[0]]})
    report.settings = {...report.settings, confirm: 0}
    const text = formatBenchReport(report)
    expect(text).not.toMatch(/confirmed|publish → confirm/)
    expect(formatThroughputChart(report)).toBeUndefined()
  })
})

describe('formatLiveLine', () => {
  it('shows the second, the three rates and p50/p99', () => {
    const line = formatLiveLine(
      {second: 3, published: 20104, confirmed: 20000, consumed: 19900, p50: 1.234, p99: 8.3},
      true,
    )
    expect(line).toBe(
      '   3 s  published  20,104/s  confirmed  20,000/s  consumed  19,900/s  latency p50 1.23 ms p99 8.30 ms',
    )
    expect(formatLiveLine({second: 1, published: 1, confirmed: 0, consumed: 1, p50: 0, p99: 0}, false)).not.toMatch(
      /confirmed/,
    )
  })
})

describe('downsample', () => {
  it('averages neighbours so long runs fit the chart width', () => {
    expect(downsample([1, 2, 3], 5)).toEqual([1, 2, 3])
    expect(downsample([1, 3, 5, 7, 9, 11], 3)).toEqual([2, 6, 10])
    expect(
      downsample(
        Array.from({length: 600}, () => 1),
        60,
      ),
    ).toHaveLength(60)
  })
})

describe('LatencyRecorder percentiles never pass the max', () => {
  it('clamps a bucket-rounded p99.9 to the exact max', () => {
    const r = new LatencyRecorder()
    for (let i = 0; i < 100; i++) r.recordMs(1)
    r.recordMs(27.517)
    const s = r.summary()
    expect(s.p999).toBeLessThanOrEqual(s.max)
    expect(s.max).toBeCloseTo(27.517, 3)
  })
})
