import {createRequire} from 'node:module'
import type {SingleBar} from 'cli-progress'

export interface ProgressBar {
  /** Set the current value (and optional extra tokens for the format). */
  update(value: number, payload?: Record<string, string | number>): void
  /** Remove the bar (if one was drawn). */
  stop(): void
}

export interface ProgressOptions {
  total: number
  /** Text before the bar, e.g. "publishing". */
  label?: string
  /** cli-progress format; default shows label, bar, value/total, percentage, eta. */
  format?: string
  /** Draw only if the work is still going after this long (default 400 ms): quick runs print nothing. */
  delayMs?: number
  /** Force on/off; default: only when stderr is a TTY, not --json, and not CI. */
  enabled?: boolean
  json?: boolean
  stream?: NodeJS.WriteStream
}

const require = createRequire(import.meta.url)
const NOOP: ProgressBar = {update() {}, stop() {}}

/**
 * A progress bar on stderr for runs that take more than a moment; a no-op when stderr is piped,
 * with --json, or in CI, so scripts see clean output.
 */
export function createProgress(options: ProgressOptions): ProgressBar {
  const stream = options.stream ?? process.stderr
  const enabled = options.enabled ?? Boolean(stream.isTTY && !options.json && !process.env.CI)
  if (!enabled || options.total <= 0) return NOOP
  const startAt = Date.now() + (options.delayMs ?? 400)
  let bar: SingleBar | undefined
  let stopped = false
  return {
    update(value, payload) {
      if (stopped) return
      if (!bar) {
        if (Date.now() < startAt || value >= options.total) return
        const cliProgress = require('cli-progress') as typeof import('cli-progress')
        bar = new cliProgress.SingleBar(
          {
            stream,
            format:
              options.format ?? `${options.label ?? 'progress'} [{bar}] {value}/{total} {percentage}% | eta {eta}s`,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        )
        bar.start(options.total, value, payload)
        return
      }
      bar.update(value, payload)
    },
    stop() {
      stopped = true
      bar?.stop()
    },
  }
}
