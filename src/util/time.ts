/** Sleeping and polling: the one place tests and library code wait for something. */

/** Resolve after ms; reject with the signal's reason if it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/**
 * Wait for a promise at most ms; true if it settled in time. The timer is cleared either way, so a
 * settled race never keeps the process alive until the full timeout.
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timedOut,
    ])
  } finally {
    clearTimeout(timer)
  }
}

export interface WaitForOptions {
  timeoutMs: number
  intervalMs?: number
  signal?: AbortSignal
  /** Stop early (false) when the thing waited on can no longer become ready (a process that exited). */
  stillAlive?: () => boolean
}

/** Poll until check() is true; false if the deadline passes or stillAlive() says it never will. */
export async function waitFor(check: () => boolean | Promise<boolean>, options: WaitForOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (await check()) return true
    if (options.stillAlive && !options.stillAlive()) return false
    if (Date.now() >= deadline) return false
    await sleep(Math.min(options.intervalMs ?? 50, Math.max(1, deadline - Date.now())), options.signal)
  }
}

/** A point in time to finish by; `remaining()` never goes below 0. */
export class Deadline {
  readonly at: number
  constructor(ms: number) {
    this.at = Date.now() + ms
  }
  remaining(): number {
    return Math.max(0, this.at - Date.now())
  }
  passed(): boolean {
    return Date.now() >= this.at
  }
}
