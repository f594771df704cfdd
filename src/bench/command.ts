import {type ConnectionSettings, otherNodeUrls} from '../config/resolve.js'
import {CheckFailedError} from '../errors.js'
import {interruptScope} from '../util/signals.js'
import {type BenchExpectations, type BenchInput, validateBenchOptions, validateExpectations} from './options.js'
import {eventBodies} from './payload.js'
import {formatBenchReport, formatLiveLine} from './report.js'
import {type BenchReport, runBench} from './run.js'
import {describeMisses, evaluateThresholds} from './thresholds.js'

export interface BenchCommandInput {
  options: BenchInput
  expect: BenchExpectations
  connection: ConnectionSettings
  json: boolean
  log: (text: string) => void
  info: (text: string) => void
}

/** Everything `evt bench` does between parsing flags and printing: validate, run, report, judge thresholds. */
export async function benchCommand(input: BenchCommandInput): Promise<BenchReport> {
  const options = validateBenchOptions(input.options)
  const expect = validateExpectations(input.expect, options)
  const events = options.event ? await eventBodies(options.event) : undefined

  const interrupts = interruptScope()
  const live = !input.json && Boolean(process.stderr.isTTY)
  if (!input.json)
    input.info(
      `Benchmarking ${options.count === undefined ? `for ${options.durationSeconds} s` : `${options.count} messages`} in a throwaway vhost ...`,
    )
  let report: BenchReport
  try {
    report = await runBench(
      options,
      {
        amqpUrl: input.connection.amqpUrl,
        managementUrl: input.connection.managementUrl,
        otherNodeUrls: otherNodeUrls(input.connection),
      },
      {
        signal: interrupts.signal,
        eventBodies: events,
        onSample: live ? (s) => process.stderr.write(`${formatLiveLine(s, options.confirm > 0)}\n`) : undefined,
      },
    )
  } finally {
    interrupts.dispose()
  }

  report.thresholds = evaluateThresholds(
    {publishRate: report.rates.publish, consumeRate: report.rates.consume, p99Ms: report.latency?.p99 ?? 0},
    expect,
  )
  report.passed = report.thresholds.every((t) => t.passed)
  if (!input.json) input.log(formatBenchReport(report))
  if (!report.passed) {
    const misses = describeMisses(report.thresholds)
    throw new CheckFailedError(`benchmark threshold missed: ${misses.join('; ')}`, undefined, report)
  }
  return report
}
