import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import type {PublishSummary} from '../../src/publish/publisher.js'
import {formatPublishSummary, publishProblems} from '../../src/publish/report.js'
import {createProgress} from '../../src/ui/progress.js'

function summary(over: Partial<PublishSummary['totals']> = {}, extra: Partial<PublishSummary> = {}): PublishSummary {
  const totals = {published: 10, confirmed: 10, returned: 0, nacked: 0, unconfirmed: 0, rate: 500, ...over}
  return {
    types: [
      {type: 'ecommerce/order.created', name: 'order.created', vhost: 'ecommerce', exchange: 'orders', ...totals},
    ],
    totals,
    republished: 0,
    reconnects: 0,
    durationMs: 20,
    confirm: true,
    persistent: true,
    mandatory: true,
    interrupted: false,
    ok: totals.returned === 0 && totals.nacked === 0 && totals.unconfirmed === 0,
    ...extra,
  }
}

describe('the publish summary', () => {
  it('is a table with one row per type and a totals line', () => {
    const text = formatPublishSummary(summary())
    expect(text).toMatch(/type\s+│\s+published\s+│\s+confirmed\s+│\s+returned\s+│\s+nacked\s+│\s+rate\/s/)
    expect(text).toMatch(/ecommerce\/order\.created\s+│\s+10\s+│\s+10\s+│\s+0\s+│\s+0\s+│\s+500/)
    expect(text).toMatch(/10 message\(s\) in 0\.02 s \(500 msg\/s, persistent, confirmed\)/)
  })

  it('says why the run fails: returned, nacked, never confirmed', () => {
    expect(publishProblems(summary())).toBeUndefined()
    expect(publishProblems(summary({confirmed: 7, returned: 2, nacked: 1}))).toBe(
      '2 returned unroutable (no queue bound for the routing key), 1 nacked by the broker; 7 of 10 confirmed',
    )
    expect(publishProblems(summary({confirmed: 9, unconfirmed: 1}))).toMatch(/1 never confirmed; 9 of 10 confirmed/)
  })

  it('says so when interrupted', () => {
    expect(publishProblems(summary({published: 4, confirmed: 4}, {interrupted: true}))).toBe(
      'interrupted before every message was published; 4 of 4 confirmed',
    )
  })

  it('never shows a confirmed count when confirms were off', () => {
    const s = summary({confirmed: 0, unconfirmed: 10}, {confirm: false})
    s.types[0]!.confirmed = 0
    const text = formatPublishSummary(s)
    expect(text).toMatch(/order\.created\s+│\s+10\s+│\s+-\s+│/)
    expect(text).toMatch(/no message is counted as confirmed/)
    expect(publishProblems(s)).toBeUndefined()
  })

  it('mentions reconnects and possible duplicates', () => {
    expect(formatPublishSummary(summary({}, {reconnects: 1, republished: 12}))).toMatch(
      /Reconnected 1 time\(s\); republished 12 unconfirmed message\(s\): possible duplicates/,
    )
  })
})

describe('createProgress', () => {
  it('draws nothing when the stream is not a TTY', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream
    let written = ''
    ;(stream as unknown as PassThrough).on('data', (d) => {
      written += d
    })
    const bar = createProgress({total: 100, stream, delayMs: 0})
    bar.update(50)
    bar.stop()
    expect(written).toBe('')
  })

  it('draws on a TTY only once the run takes longer than the delay', async () => {
    const chunks: string[] = []
    const stream = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 80,
      cursorTo() {},
      clearLine() {},
      moveCursor() {},
    })
    stream.on('data', (d) => chunks.push(String(d)))
    const quick = createProgress({
      total: 10,
      stream: stream as unknown as NodeJS.WriteStream,
      enabled: true,
      delayMs: 60_000,
    })
    quick.update(5)
    quick.stop()
    expect(chunks.join('')).toBe('')
    const slow = createProgress({
      total: 10,
      stream: stream as unknown as NodeJS.WriteStream,
      enabled: true,
      delayMs: 0,
      label: 'pub',
    })
    slow.update(5)
    slow.stop()
    await new Promise((r) => setTimeout(r, 10))
    expect(chunks.join('')).toMatch(/pub \[.*\] 5\/10 50%/)
  })
})
