import {once} from 'node:events'
import {existsSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {waitFor} from '../../src/util/time.js'
import {createTestVhost, type TestVhost} from '../helpers/broker.js'
import {runCli, spawnCli} from '../helpers/cli.js'

let t: TestVhost
let env: NodeJS.ProcessEnv
beforeAll(async () => {
  // Only for the broker's URLs: evt bench makes (and deletes) its own vhost.
  t = await createTestVhost('bench')
  env = {RABBITMQ_URL: t.brokerUrl, RABBITMQ_MANAGEMENT_URL: t.managementUrl, EVT_HOME: '/nonexistent-evt-home'}
})
afterAll(async () => {
  await t?.cleanup()
})

/** The throwaway vhosts `evt bench` makes (evt-bench-*). */
async function benchVhosts(): Promise<string[]> {
  const vhosts = await t.api.get<{name: string}[]>('/vhosts?columns=name')
  return vhosts.map((v) => v.name).filter((n) => n.startsWith('evt-bench-'))
}

describe('evt bench', () => {
  it('publishes, confirms and consumes every message and reports rates and latency as JSON', async () => {
    const r = await runCli(
      [
        'bench',
        '--count',
        '2000',
        '--producers',
        '2',
        '--consumers',
        '2',
        '--confirm',
        '100',
        '--persistent',
        '--json',
      ],
      {env},
    )
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.counts).toEqual({published: 2000, confirmed: 2000, nacked: 0, consumed: 2000})
    expect(report.settings).toMatchObject({producers: 2, consumers: 2, confirm: 100, persistent: true, count: 2000})
    for (const key of ['publish', 'confirm', 'consume']) expect(report.rates[key]).toBeGreaterThan(0)
    for (const latency of [report.latency, report.confirmLatency]) {
      expect(latency.count).toBe(2000)
      const ordered = [latency.min, latency.p50, latency.p75, latency.p95, latency.p99, latency.p999, latency.max]
      expect([...ordered].sort((a, b) => a - b)).toEqual(ordered)
      expect(latency.min).toBeGreaterThan(0)
    }
    expect(report.broker.url).toContain('****')
    expect(report.passed).toBe(true)
    expect(Array.isArray(report.series)).toBe(true)
    // nothing to read on stderr when piped: no live lines
    expect(r.stderr).toBe('')
    expect(report.vhost).toMatch(/^evt-bench-/)
    expect(await t.api.vhostExists(report.vhost)).toBe(false)
  })

  it('exits 1 naming the figure that missed its threshold', async () => {
    const r = await runCli(['bench', '--count', '500', '--expect-publish-rate', '100000000', '--expect-p99', '60000'], {
      env,
    })
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stderr).toMatch(/publish rate [\d,]+ msg\/s is below --expect-publish-rate 100,000,000/)
    expect(r.stderr).not.toMatch(/p99/)
    // the report is still printed for a person
    expect(r.stdout).toMatch(/MISS\s+publish rate/)
    expect(r.stdout).toMatch(/PASS\s+p99/)
    // piped: no live lines, only the one status line
    expect(r.stderr).not.toMatch(/published +[\d,]+\/s/)
  })

  it('puts the whole report under error.details with --json when a threshold misses', async () => {
    const r = await runCli(['bench', '--count', '300', '--expect-consume-rate', '100000000', '--json'], {env})
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout)
    expect(out.error.exitCode).toBe(1)
    expect(out.error.message).toMatch(/consume rate/)
    expect(out.error.details.counts.consumed).toBe(300)
    expect(out.error.details.thresholds[0]).toMatchObject({name: 'consume-rate', passed: false})
  })

  it('refuses prefetch 1 with multi-ack above 1 (it would deadlock) with exit 2', async () => {
    const r = await runCli(['bench', '--count', '10', '--prefetch', '1', '--multi-ack', '10'], {env})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--multi-ack 10 is larger than --prefetch 1/)
  })

  it('stops on Ctrl-C, reports what ran, and deletes its vhost', async () => {
    const child = spawnCli(['bench', '--duration', '60', '--rate', '200', '--json'], {env})
    let stdout = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    // Synchronise on the bench having started (its vhost exists), not on a fixed delay from spawn, so a slow
    // start on a loaded machine cannot leave it with nothing published when Ctrl-C comes.
    const started = await waitFor(async () => (await benchVhosts()).length > 0, {timeoutMs: 60_000, intervalMs: 100})
    expect(started, 'the bench created its vhost').toBe(true)
    const runningSince = Date.now()
    // Two one-second samples must exist for the chart: let it run for 2.5 s of its own time.
    await waitFor(() => Date.now() - runningSince >= 2500, {timeoutMs: 5000, intervalMs: 100})
    child.kill('SIGINT')
    const [code] = await once(child, 'close')
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    expect(report.interrupted).toBe(true)
    expect(report.counts.published).toBeGreaterThan(0)
    // 200 msg/s for at most the time it ran, with room for one burst.
    expect(report.counts.published).toBeLessThanOrEqual(200 * ((Date.now() - runningSince) / 1000 + 1))
    // one sample a second for the chart, even when nothing is shown live
    expect(report.series.length).toBeGreaterThanOrEqual(2)
    expect(report.series[0].second).toBeGreaterThanOrEqual(1)
    expect(report.series[0].second).toBeLessThan(2)
    expect(report.series[0].published).toBeGreaterThan(100)
    expect(await t.api.vhostExists(report.vhost)).toBe(false)
  })

  it.skipIf(!existsSync('fixtures/events'))('sends catalogue events with --event (needs fixtures/events)', async () => {
    const r = await runCli(['bench', '--count', '300', '--event', 'order.created', '--json'], {env})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.payload).toMatchObject({kind: 'event'})
    expect(report.payload.event).toMatch(/order\.created$/)
    expect(report.counts.consumed).toBe(300)
    expect(report.latency.count).toBe(300)
  })
})
