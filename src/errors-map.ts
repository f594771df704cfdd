import {maskUrlsIn} from './config/url.js'
import {EvtError, ExitCode} from './errors.js'
import {describeManagementError} from './management/client.js'
import {closest} from './util/did-you-mean.js'

/**
 * Any error as an EvtError with a documented exit code. Library code throws EvtErrors for what it
 * foresees; this catches what escapes (amqplib channel errors, oclif parse errors, prompts).
 */
export function toEvtError(err: unknown, context: {flagNames?: string[]} = {}): EvtError {
  if (err instanceof EvtError) return err
  const managed = describeManagementError(err)
  if (managed) return managed
  const e = err as {message?: string; name?: string; code?: unknown; oclif?: {exit?: number}}
  const message = maskUrlsIn(String(e?.message ?? err))
  if (e?.oclif?.exit !== undefined) {
    const unknown = /^Nonexistent flags?: (\S+)/.exec(message)?.[1]?.replace(/,$/, '')
    const near = unknown && context.flagNames ? closest(unknown.replace(/^-+/, ''), context.flagNames, (n) => n) : []
    if (unknown && near.length > 0) {
      return new EvtError(`unknown flag ${unknown}`, {
        exitCode: ExitCode.usage,
        hint: `Did you mean ${near.map((n) => `--${n}`).join(' or ')}?`,
      })
    }
    return new EvtError(oneLine(message), {exitCode: e.oclif.exit === 0 ? 0 : ExitCode.usage, hint: 'See `evt help`'})
  }
  if (e?.name === 'ExitPromptError' || e?.name === 'AbortPromptError') {
    return new EvtError('prompt cancelled', {
      exitCode: ExitCode.usage,
      hint: 'Pass the value as a flag, or use --no-input',
    })
  }
  if (e?.name === 'TimeoutError') {
    return new EvtError(`no answer in time: ${firstLine(message)}`, {
      exitCode: ExitCode.unreachable,
      hint: 'Check that the broker is up and healthy (evt status)',
    })
  }
  if (/Excessive alias count/i.test(message)) {
    return new EvtError(`invalid YAML: ${firstLine(message)}`, {exitCode: ExitCode.usage})
  }
  if (/ACCESS_REFUSED/.test(message)) return new EvtError(firstLine(message), {exitCode: ExitCode.unreachable})
  if (/NOT_FOUND|PRECONDITION_FAILED|NOT_ALLOWED/.test(message)) {
    return new EvtError(firstLine(message), {exitCode: ExitCode.usage})
  }
  if (/ECONNREFUSED|ECONNRESET|Connection closed|Socket closed|EPIPE/i.test(message)) {
    return new EvtError(`the broker connection failed: ${firstLine(message)}`, {exitCode: ExitCode.unreachable})
  }
  return new EvtError(firstLine(message), {exitCode: ExitCode.checkFailed, cause: err})
}

/** oclif spreads a parse error over lines ("Parsing --count", then the reason, then a help pointer): keep it all on one. */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^See more help with/.test(l))
    .join(': ')
    .replace(/\s+:/g, ':')
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '') ?? text
}
