import {describe, expect, it} from 'vitest'
import {backoffDelays, retryWithBackoff} from '../../../src/util/backoff.js'
import {InterruptedError, interruptScope} from '../../../src/util/signals.js'
import {Deadline, settledWithin, sleep, waitFor} from '../../../src/util/time.js'

describe('util/time', () => {
  it('waitFor returns true as soon as the check holds and false at the deadline', async () => {
    let calls = 0
    expect(await waitFor(() => ++calls >= 3, {timeoutMs: 5000, intervalMs: 1})).toBe(true)
    expect(calls).toBe(3)
    const started = Date.now()
    expect(await waitFor(() => false, {timeoutMs: 30, intervalMs: 5})).toBe(false)
    expect(Date.now() - started).toBeGreaterThanOrEqual(29)
  })

  it('waitFor stops early when the awaited thing died', async () => {
    expect(await waitFor(() => false, {timeoutMs: 60_000, intervalMs: 1, stillAlive: () => false})).toBe(false)
  })

  it('sleep rejects with the abort reason', async () => {
    const abort = new AbortController()
    const slept = sleep(60_000, abort.signal)
    abort.abort(new Error('stop'))
    await expect(slept).rejects.toThrow('stop')
  })

  it('settledWithin says whether a promise settled in time, and leaves no timer behind when it did', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = timers()
    expect(await settledWithin(Promise.resolve(1), 60_000)).toBe(true)
    expect(await settledWithin(Promise.reject(new Error('no')), 60_000)).toBe(true)
    // A 60 s timer left running would keep a CLI alive for a minute after its work is done.
    expect(timers()).toBe(before)
    expect(await settledWithin(new Promise(() => {}), 20)).toBe(false)
  })

  it('a deadline never has negative time left', () => {
    const d = new Deadline(-5)
    expect(d.remaining()).toBe(0)
    expect(d.passed()).toBe(true)
  })
})

describe('util/backoff', () => {
  it('doubles up to the cap', () => {
    const it = backoffDelays(100, 500)
    expect(Array.from({length: 5}, () => it.next().value)).toEqual([100, 200, 400, 500, 500])
  })

  it('retries until the attempt succeeds', async () => {
    let n = 0
    const outcome = await retryWithBackoff(
      async () => {
        if (++n < 3) throw new Error(`fail ${n}`)
        return 'ok'
      },
      {initialMs: 1, maxMs: 2},
    )
    expect(outcome).toEqual({ok: true, value: 'ok', attempts: 3})
  })

  it('gives up after its time and keeps the last error', async () => {
    const outcome = await retryWithBackoff(
      async () => {
        throw new Error('down')
      },
      {initialMs: 1, maxMs: 4, giveUpAfterMs: 30},
    )
    expect(outcome.ok).toBe(false)
    if (!outcome.ok) expect((outcome.lastError as Error).message).toBe('down')
  })

  it('ends at once, without throwing, when its signal aborts during a wait', async () => {
    const abort = new AbortController()
    const started = Date.now()
    setTimeout(() => abort.abort(new Error('SIGINT')), 20)
    const outcome = await retryWithBackoff(
      async () => {
        throw new Error('down')
      },
      {initialMs: 60_000, maxMs: 60_000, signal: abort.signal},
    )
    expect(outcome).toEqual({ok: false, lastError: undefined, attempts: 0, aborted: true})
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('ends quietly when stopped', async () => {
    const outcome = await retryWithBackoff(async () => 1, {initialMs: 1, maxMs: 1, stopped: () => true})
    expect(outcome).toEqual({ok: false, lastError: undefined, attempts: 0})
  })
})

describe('util/signals', () => {
  it('the first SIGINT aborts the scope and calls the handler; dispose removes the listeners', () => {
    const before = process.listenerCount('SIGINT')
    const seen: string[] = []
    const scope = interruptScope((sig) => seen.push(sig))
    expect(process.listenerCount('SIGINT')).toBe(before + 1)
    process.emit('SIGINT', 'SIGINT')
    expect(seen).toEqual(['SIGINT'])
    expect(scope.received).toBe('SIGINT')
    expect(scope.signal.aborted).toBe(true)
    expect(scope.signal.reason).toBeInstanceOf(InterruptedError)
    scope.dispose()
    expect(process.listenerCount('SIGINT')).toBe(before)
  })
})
