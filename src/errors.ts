/**
 * The documented exit codes. Every error a user can cause or meet is an EvtError with one of them,
 * so the base command can print one line and exit with the right code.
 */
export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  unreachable: 3,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export class EvtError extends Error {
  readonly exitCode: ExitCodeValue
  /** What to do about it; printed after the message. */
  readonly hint?: string
  /** Extra machine-readable detail for --json output. */
  readonly details?: unknown

  constructor(message: string, options: {exitCode: ExitCodeValue; hint?: string; details?: unknown; cause?: unknown}) {
    super(message, {cause: options.cause})
    this.name = 'EvtError'
    this.exitCode = options.exitCode
    this.hint = options.hint
    this.details = options.details
  }
}

/** Bad usage or bad input: exit 2. */
export class UsageError extends EvtError {
  constructor(message: string, hint?: string, details?: unknown) {
    super(message, {exitCode: ExitCode.usage, hint, details})
    this.name = 'UsageError'
  }
}

/** A broker or runtime that cannot be reached or refuses us: exit 3. */
export class UnreachableError extends EvtError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, {exitCode: ExitCode.unreachable, hint, cause})
    this.name = 'UnreachableError'
  }
}

/** A check or a delivery that failed: exit 1. */
export class CheckFailedError extends EvtError {
  constructor(message: string, hint?: string, details?: unknown) {
    super(message, {exitCode: ExitCode.checkFailed, hint, details})
    this.name = 'CheckFailedError'
  }
}

/**
 * One line: message, then the hint when there is one. Multi-line detail (a log tail, a list of schema
 * errors) goes under that line, indented, so the first line is always the whole story in brief.
 */
export function formatError(err: EvtError): string {
  const text = err.hint ? `${err.message.trimEnd()}. ${err.hint}` : err.message
  const [first, ...rest] = text.split('\n')
  const more = rest.filter((l) => l.trim() !== '')
  return more.length === 0 ? first : [first.replace(/[:.]?\s*$/, ':'), ...more.map((l) => `  ${l.trim()}`)].join('\n')
}
