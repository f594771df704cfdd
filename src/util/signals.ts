/**
 * Ctrl-C and SIGTERM, handled in one place. Handlers are registered with `process.on` (never `once`): the
 * `signal-exit` that testcontainers loads re-raises a signal as soon as it is the only listener left, which
 * killed the process before an async cleanup (removing a container, stopping a node) could finish.
 */

export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP'
const SIGNALS: InterruptSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** The conventional exit status for a death by signal: 128 + its number. */
export const SIGNAL_EXIT_CODE: Record<InterruptSignal, number> = {SIGINT: 130, SIGTERM: 143, SIGHUP: 129}

export interface InterruptScope {
  /** An AbortSignal that aborts at the first Ctrl-C/SIGTERM: pass it to whatever is waiting. */
  readonly signal: AbortSignal
  /** Which signal arrived, if one did. */
  readonly received: InterruptSignal | undefined
  /** Stop listening (call in a finally). */
  dispose(): void
}

/**
 * Listen for interrupts while `work` runs. The first signal calls onInterrupt (or aborts the scope's
 * signal); a second one exits at once with the signal's code, for a user who really means it.
 */
export function interruptScope(onInterrupt?: (sig: InterruptSignal) => void): InterruptScope {
  const abort = new AbortController()
  let received: InterruptSignal | undefined
  const handler = (sig: InterruptSignal) => {
    if (received) process.exit(SIGNAL_EXIT_CODE[sig])
    received = sig
    abort.abort(new InterruptedError(sig))
    onInterrupt?.(sig)
  }
  for (const sig of SIGNALS) process.on(sig, handler)
  return {
    signal: abort.signal,
    get received() {
      return received
    },
    dispose() {
      for (const sig of SIGNALS) process.removeListener(sig, handler)
    },
  }
}

/** Run work with an interrupt scope; the scope is removed whatever happens. */
export async function withInterrupts<T>(
  work: (scope: InterruptScope) => Promise<T>,
  onInterrupt?: (sig: InterruptSignal) => void,
): Promise<T> {
  const scope = interruptScope(onInterrupt)
  try {
    return await work(scope)
  } finally {
    scope.dispose()
  }
}

/** What an aborted wait rejects with when the user pressed Ctrl-C (or the process got SIGTERM). */
export class InterruptedError extends Error {
  constructor(readonly signalName: InterruptSignal) {
    super(`interrupted by ${signalName}`)
    this.name = 'InterruptedError'
  }
}
