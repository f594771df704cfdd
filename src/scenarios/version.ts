/**
 * Broker-version conditions for scenario steps and checks: `when: {rabbitmq: ">=4.3"}`. A range is one or
 * more comparisons joined by spaces (all must hold): `>=3.13 <4.3`, `4.0` (that minor series), `=4.0.5`.
 */

export function parseVersion(text: string): number[] {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim())
  if (!m) return []
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)]
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

const PART = /^(>=|<=|>|<|=|~)?\s*(\d+(?:\.\d+){0,2})$/

/** Whether a range text is well formed (checked when the file is loaded). */
export function validRange(range: string): boolean {
  const parts = range.trim().split(/\s+/)
  return parts.length > 0 && parts.every((p) => PART.test(p))
}

/** Whether `version` (e.g. 3.10.7) satisfies `range` (e.g. ">=4.0 <4.3"). */
export function versionMatches(version: string, range: string): boolean {
  const v = parseVersion(version)
  if (v.length === 0) return false
  return range
    .trim()
    .split(/\s+/)
    .every((part) => {
      const m = PART.exec(part)
      if (!m) return false
      const op = m[1] ?? ''
      const want = parseVersion(m[2])
      const c = cmp(v, want)
      switch (op) {
        case '>=':
          return c >= 0
        case '<=':
          return c <= 0
        case '>':
          return c > 0
        case '<':
          return c < 0
        default: {
          // "4.0" or "~4.0": that series; "=4.0.5": exactly.
          const given = m[2].split('.').length
          return v.slice(0, given).every((n, i) => n === want[i])
        }
      }
    })
}
