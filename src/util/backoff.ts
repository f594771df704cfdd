import {sleep} from './time.js'

export interface BackoffOptions {
  initialMs: number
  maxMs: number
  /** Give up after this long in all (undefined: keep trying until stopped). */
  giveUpAfterMs?: number
  signal?: AbortSignal
  /** Checked before each attempt: true ends the retries quietly. */
  stopped?: () => boolean
}

/** The delays of an exponential backoff: initial, doubling, capped at max. */
export function* backoffDelays(initialMs: number, maxMs: number): Generator<number> {
  let delay = initialMs
  for (;;) {
    yield delay
    delay = Math.min(delay * 2, maxMs)
  }
}

export type RetryOutcome<T> = {ok: true; value: T; attempts: number} | {ok: false; lastError: unknown; attempts: number}

/**
 * Wait, try, and on failure wait twice as long (up to maxMs), until attempt() succeeds, the time is up
 * or stopped() says so. Used by every reconnect: the publisher, the tail session, broker readiness.
 */
export async function retryWithBackoff<T>(
  attempt: () => Promise<T>,
  options: BackoffOptions,
): Promise<RetryOutcome<T>> {
  const giveUpAt = options.giveUpAfterMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.giveUpAfterMs
  let attempts = 0
  let lastError: unknown
  for (const delay of backoffDelays(options.initialMs, options.maxMs)) {
    if (options.stopped?.()) break
    const wait = Math.min(delay, Math.max(0, giveUpAt - Date.now()))
    await sleep(wait, options.signal)
    if (options.stopped?.()) break
    attempts++
    try {
      return {ok: true, value: await attempt(), attempts}
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= giveUpAt) break
  }
  return {ok: false, lastError, attempts}
}

/**
 * A reconnect that Ctrl-C ends at once: retryWithBackoff whose waiting stops when `signal` aborts, returning
 * `aborted: true` instead of throwing, so the caller reports what was and was not confirmed (a publish, a replay).
 */
export async function reconnectWithBackoff<T>(
  attempt: () => Promise<T>,
  options: BackoffOptions,
): Promise<RetryOutcome<T> & {aborted: boolean}> {
  const aborted = () => Boolean(options.signal?.aborted)
  try {
    const outcome = await retryWithBackoff(attempt, {
      ...options,
      stopped: () => aborted() || Boolean(options.stopped?.()),
    })
    return {...outcome, aborted: aborted()}
  } catch (err) {
    if (aborted()) return {ok: false, lastError: err, attempts: 0, aborted: true}
    throw err
  }
}
