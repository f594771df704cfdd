import {describe, expect, it} from 'vitest'
import {startAllOrNone} from '../../../src/broker/cluster-base.js'
import {sleep} from '../../../src/util/time.js'

describe('startAllOrNone (starting the members of a cluster)', () => {
  it('resolves when every start does', async () => {
    const done: number[] = []
    await startAllOrNone([1, 2, 3].map((i) => async () => void done.push(i)))
    expect(done.sort()).toEqual([1, 2, 3])
  })

  it('the first failure aborts the others, and is thrown only once every start has settled', async () => {
    const settled: string[] = []
    const failing = async () => {
      await sleep(10)
      settled.push('failed')
      throw new Error('node 2 exited while starting')
    }
    // A member waiting for peers that will not come: it would wait its whole 60 s without the abort.
    const waiting = (name: string) => async (signal: AbortSignal) => {
      try {
        await sleep(60_000, signal)
      } finally {
        await sleep(20) // its own cleanup (killing the node) takes a moment
        settled.push(name)
      }
    }
    const started = Date.now()
    const err = await startAllOrNone([waiting('n1'), failing, waiting('n3')]).catch((e: Error) => e)
    expect((err as Error).message).toBe('node 2 exited while starting')
    expect(settled.sort()).toEqual(['failed', 'n1', 'n3'])
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('an outer abort (Ctrl-C) reaches every start and is what is thrown', async () => {
    const outer = new AbortController()
    const seen: unknown[] = []
    const start = async (signal: AbortSignal) => {
      try {
        await sleep(60_000, signal)
      } catch (err) {
        seen.push(err)
        throw err
      }
    }
    const interrupted = new Error('Interrupted (SIGINT)')
    setTimeout(() => outer.abort(interrupted), 10)
    await expect(startAllOrNone([start, start], outer.signal)).rejects.toBe(interrupted)
    expect(seen).toEqual([interrupted, interrupted])
  })
})
