import {sleep} from './time.js'

export interface BackoffOptions {
  initialMs: number
  maxMs: number
  /** Give up after this long in all (undefined: keep trying until stopped). */
  giveUpAfterMs?: number
  /** Aborting it (Ctrl-C) ends the waiting at once: the outcome says `aborted`, nothing is thrown. */
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

/** `aborted` is there when the signal aborted (Ctrl-C), whether or not an attempt under way then succeeded. */
export type RetryOutcome<T> =
  | {ok: true; value: T; attempts: number; aborted?: true}
  | {ok: false; lastError: unknown; attempts: number; aborted?: true}

/**
 * Wait, try, and on failure wait twice as long (up to maxMs), until attempt() succeeds, the time is up,
 * stopped() says so or the signal aborts. Used by every reconnect: the publisher, the replay, the tail session.
 * An attempt under way when the signal aborts is not cancelled; if it succeeds, the outcome is ok and aborted.
 */
export async function retryWithBackoff<T>(
  attempt: () => Promise<T>,
  options: BackoffOptions,
): Promise<RetryOutcome<T>> {
  const giveUpAt = options.giveUpAfterMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.giveUpAfterMs
  const aborted = () => (options.signal?.aborted ? {aborted: true as const} : {})
  const stopped = () => Boolean(options.signal?.aborted || options.stopped?.())
  let attempts = 0
  let lastError: unknown
  for (const delay of backoffDelays(options.initialMs, options.maxMs)) {
    if (stopped()) break
    const wait = Math.min(delay, Math.max(0, giveUpAt - Date.now()))
    // An abort ends the sleep early (it rejects): the check below then ends the retries.
    await sleep(wait, options.signal).catch(() => undefined)
    if (stopped()) break
    attempts++
    try {
      const value = await attempt()
      return {ok: true, value, attempts, ...aborted()}
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= giveUpAt) break
  }
  return {ok: false, lastError, attempts, ...aborted()}
}
