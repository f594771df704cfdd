import {createRequire} from 'node:module'
import {renderTable} from '../ui/table.js'
import {colorEnabled, painter} from '../ui/terminal.js'
import type {BenchReport, BenchSample} from './run.js'
import {PERCENTILES} from './stats.js'
import {formatInt, formatMs} from './thresholds.js'

const require = createRequire(import.meta.url)

interface AsciiChart {
  plot(
    series: number[] | number[][],
    config?: {height?: number; min?: number; colors?: string[]; format?: (x: number) => string},
  ): string
  green: string
  blue: string
  magenta: string
  default: string
}

/** The once-a-second line shown on a TTY while the run goes. */
export function formatLiveLine(sample: BenchSample, confirms: boolean): string {
  const parts = [
    `${String(Math.round(sample.second)).padStart(4)} s`,
    `published ${formatInt(sample.published).padStart(7)}/s`,
    ...(confirms ? [`confirmed ${formatInt(sample.confirmed).padStart(7)}/s`] : []),
    `consumed ${formatInt(sample.consumed).padStart(7)}/s`,
    `latency p50 ${formatMs(sample.p50)} ms p99 ${formatMs(sample.p99)} ms`,
  ]
  return parts.join('  ')
}

export function describeSettings(report: BenchReport): string {
  const s = report.settings
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const payload =
    report.payload.kind === 'event'
      ? `${report.payload.event} events (~${report.payload.bytes} B)`
      : `${s.size} B random`
  return [
    plural(s.producers, 'producer'),
    plural(s.consumers, 'consumer'),
    s.count === undefined ? `${s.durationSeconds} s` : `${formatInt(s.count)} messages`,
    s.rate > 0 ? `${formatInt(s.rate)} msg/s per producer` : 'unlimited rate',
    payload,
    s.persistent ? 'persistent' : 'transient',
    s.confirm > 0 ? `confirm window ${s.confirm}` : 'no confirms',
    `prefetch ${s.prefetch === 0 ? 'unlimited' : s.prefetch}`,
    `multi-ack ${s.multiAck}`,
    `${s.queueType} queue`,
    `${s.exchangeType} exchange`,
  ].join(', ')
}

/** The final report for a person: settings, rates, latency percentiles, a throughput chart, thresholds. */
export function formatBenchReport(report: BenchReport): string {
  const paint = painter(colorEnabled())
  const lines: string[] = []
  lines.push(paint('bold', 'evt bench') + ` — ${describeSettings(report)}`)
  const version = report.broker.rabbitmqVersion ? ` (RabbitMQ ${report.broker.rabbitmqVersion})` : ''
  lines.push(paint('dim', `vhost ${report.vhost} on ${report.broker.url}${version}, deleted after the run`))
  if (report.interrupted) lines.push(paint('yellow', 'Interrupted: the figures cover what ran before Ctrl-C.'))
  lines.push('')

  const rateRows: (string | number)[][] = [
    [
      'published',
      formatInt(report.counts.published),
      report.seconds.publish.toFixed(2),
      formatInt(report.rates.publish),
    ],
  ]
  if (report.settings.confirm > 0) {
    const nacked = report.counts.nacked > 0 ? ` (${formatInt(report.counts.nacked)} nacked)` : ''
    rateRows.push([
      'confirmed',
      formatInt(report.counts.confirmed) + nacked,
      report.seconds.confirm.toFixed(2),
      formatInt(report.rates.confirm),
    ])
  }
  if (report.settings.consumers > 0) {
    rateRows.push([
      'consumed',
      formatInt(report.counts.consumed),
      report.seconds.consume.toFixed(2),
      formatInt(report.rates.consume),
    ])
  }
  lines.push(
    renderTable(['', 'messages', 'seconds', 'msg/s'], rateRows, {colAligns: ['left', 'right', 'right', 'right']}),
  )

  const latencyRows: (string | number)[][] = []
  if (report.latency) latencyRows.push(['publish → consume', ...latencyCells(report.latency)])
  if (report.confirmLatency) latencyRows.push(['publish → confirm', ...latencyCells(report.confirmLatency)])
  if (latencyRows.length > 0) {
    lines.push('')
    lines.push('Latency (ms, HdrHistogram)')
    lines.push(
      renderTable(['', 'p50', 'p75', 'p95', 'p99', 'p99.9', 'max'], latencyRows, {
        colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
      }),
    )
  }

  const chart = formatThroughputChart(report)
  if (chart) {
    lines.push('')
    lines.push(chart)
  }

  if (report.thresholds.length > 0) {
    lines.push('')
    for (const t of report.thresholds) {
      const fmt = (n: number) => (t.unit === 'ms' ? `${formatMs(n)} ms` : `${formatInt(n)} msg/s`)
      const mark = t.passed ? paint('green', 'PASS') : paint('red', 'MISS')
      lines.push(
        `${mark}  ${t.name.replace('-', ' ')} ${fmt(t.actual)} ${t.comparison === '>=' ? '≥' : '≤'} ${fmt(t.expected)} expected (${t.flag})`,
      )
    }
  }
  return lines.join('\n')
}

function latencyCells(s: NonNullable<BenchReport['latency']>): string[] {
  return [...PERCENTILES.map(([key]) => formatMs(s[key])), formatMs(s.max)]
}

const CHART_WIDTH = 60

/** Throughput per second over the run as an ASCII chart, one line per series; undefined if too short. */
export function formatThroughputChart(report: BenchReport, width = CHART_WIDTH): string | undefined {
  if (report.series.length < 2) return undefined
  const asciichart = require('asciichart') as AsciiChart
  const color = colorEnabled()
  const series: {name: string; values: number[]; color: string; paint: 'green' | 'blue' | 'magenta'}[] = [
    {name: 'published', values: report.series.map((s) => s.published), color: asciichart.green, paint: 'green'},
  ]
  if (report.settings.confirm > 0) {
    series.push({
      name: 'confirmed',
      values: report.series.map((s) => s.confirmed),
      color: asciichart.magenta,
      paint: 'magenta',
    })
  }
  if (report.settings.consumers > 0) {
    series.push({name: 'consumed', values: report.series.map((s) => s.consumed), color: asciichart.blue, paint: 'blue'})
  }
  const perColumn = Math.ceil(report.series.length / width)
  const seconds = report.series.at(-1)?.second ?? report.series.length
  const title = `Throughput (msg/s over ${seconds} s, one column ≈ ${perColumn} s)`
  const format = (x: number) => formatInt(x).padStart(9)
  if (color) {
    // One chart, one colour per series.
    const paint = painter(true)
    const plot = asciichart.plot(
      series.map((s) => downsample(s.values, width)),
      {height: 10, min: 0, colors: series.map((s) => s.color), format},
    )
    return [title, plot, `  ${series.map((s) => paint(s.paint, `── ${s.name}`)).join('  ')}`].join('\n')
  }
  // Without colour overlapping lines cannot be told apart: one small chart per series.
  const blocks = series.map(
    (s) => `${s.name}\n${asciichart.plot(downsample(s.values, width), {height: 5, min: 0, format})}`,
  )
  return [title, ...blocks].join('\n')
}

/** Average adjacent points so a long run fits in `width` columns. */
export function downsample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values]
  const per = Math.ceil(values.length / width)
  const out: number[] = []
  for (let i = 0; i < values.length; i += per) {
    const chunk = values.slice(i, i + per)
    out.push(chunk.reduce((a, b) => a + b, 0) / chunk.length)
  }
  return out
}
