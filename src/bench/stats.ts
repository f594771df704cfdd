import {createRequire} from 'node:module'
import type {Histogram} from 'hdr-histogram-js'

const require = createRequire(import.meta.url)

/** Latency percentiles in milliseconds, as reported. */
export interface LatencySummary {
  count: number
  min: number
  mean: number
  p50: number
  p75: number
  p95: number
  p99: number
  p999: number
  max: number
}

export const PERCENTILES = [
  ['p50', 50],
  ['p75', 75],
  ['p95', 95],
  ['p99', 99],
  ['p999', 99.9],
] as const

/**
 * An HdrHistogram of latencies recorded in microseconds (3 significant digits, up to an hour),
 * summarised in milliseconds. Recording is allocation-free.
 */
export class LatencyRecorder {
  readonly histogram: Histogram

  constructor() {
    const {build} = require('hdr-histogram-js') as typeof import('hdr-histogram-js')
    this.histogram = build({
      bitBucketSize: 32,
      autoResize: true,
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    })
  }

  /** Record one latency given in milliseconds (fractions kept to the microsecond). */
  recordMs(ms: number): void {
    // Clock steps can make a difference negative; count it as the smallest value rather than drop it.
    const us = ms <= 0 ? 1 : Math.round(ms * 1000) || 1
    this.histogram.recordValue(us)
  }

  get count(): number {
    return this.histogram.totalCount
  }

  percentileMs(p: number): number {
    const h = this.histogram
    return h.totalCount === 0 ? 0 : Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000
  }

  summary(): LatencySummary {
    return summarizeHistogram(this.histogram)
  }

  reset(): void {
    this.histogram.reset()
  }
}

export function summarizeHistogram(h: Histogram): LatencySummary {
  const count = h.totalCount
  if (count === 0) return {count: 0, min: 0, mean: 0, p50: 0, p75: 0, p95: 0, p99: 0, p999: 0, max: 0}
  const ms = (us: number) => round3(us / 1000)
  const out = {count, min: ms(h.minNonZeroValue), mean: ms(h.mean), max: ms(h.maxValue)} as LatencySummary
  // Percentiles are a bucket's highest equivalent value, which can pass the exact max by < 0.1 %.
  for (const [key, p] of PERCENTILES) out[key] = ms(Math.min(h.getValueAtPercentile(p), h.maxValue))
  return out
}

/** Messages per second; 0 when no time passed. */
export function ratePerSecond(messages: number, seconds: number): number {
  return seconds > 0 ? messages / seconds : 0
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** a / b, or NaN when b is 0 or either is missing. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN
}

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}
