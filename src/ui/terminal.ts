/** What the terminal can do: colour and interaction only on a real TTY, never when piped or in CI. */

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true
  return Boolean(stream.isTTY)
}

/** Whether we may ask the user something: both ends a TTY, not --no-input, not --json. */
export function canPrompt(options: {noInput?: boolean; json?: boolean} = {}): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY && !options.noInput && !options.json && !process.env.CI)
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const
export type Color = keyof typeof CODES

export type Paint = (color: Color, text: string) => string

export function painter(enabled: boolean): Paint {
  if (!enabled) return (_c, text) => text
  return (color, text) => `\u001b[${CODES[color][0]}m${text}\u001b[${CODES[color][1]}m`
}

/**
 * Whether the terminal turns OSC 8 sequences into links. There is no way to ask it, so: never when piped,
 * NO_COLOR or in CI; FORCE_HYPERLINK=1/0 decides; otherwise the terminals known to support them.
 */
export function hyperlinksEnabled(
  stream: {isTTY?: boolean} = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.FORCE_HYPERLINK !== undefined) return env.FORCE_HYPERLINK !== '0'
  if (!stream.isTTY || env.CI || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false
  if (['iTerm.app', 'WezTerm', 'vscode', 'ghostty', 'Hyper', 'Tabby'].includes(env.TERM_PROGRAM ?? '')) return true
  if (env.WT_SESSION || env.KONSOLE_VERSION || env.KITTY_WINDOW_ID || env.DOMTERM) return true
  return Number(env.VTE_VERSION ?? 0) >= 5000
}

/** text as an OSC 8 hyperlink to url (plain text when not enabled). */
export function hyperlink(url: string, text: string, enabled: boolean): string {
  return enabled ? `\u001b]8;;${url}\u0007${text}\u001b]8;;\u0007` : text
}
