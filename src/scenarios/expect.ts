import {show} from './template.js'
import {type CheckResult, COMPARATORS, type Comparator} from './types.js'

const SYMBOL: Record<Comparator, string> = {
  equals: '=',
  notEquals: '≠',
  atLeast: '≥',
  atMost: '≤',
  lessThan: '<',
  greaterThan: '>',
  matches: 'matches',
  sameItems: 'same items as',
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v)
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return num(a) === num(b)
  if (typeof a === 'boolean' || typeof b === 'boolean') return String(a) === String(b)
  return JSON.stringify(a) === JSON.stringify(b)
}

function compare(op: Comparator, observed: unknown, expected: unknown): boolean {
  switch (op) {
    case 'equals':
      return equal(observed, expected)
    case 'notEquals':
      return !equal(observed, expected)
    case 'atLeast':
      return num(observed) >= num(expected)
    case 'atMost':
      return num(observed) <= num(expected)
    case 'lessThan':
      return num(observed) < num(expected)
    case 'greaterThan':
      return num(observed) > num(expected)
    case 'matches':
      return new RegExp(String(expected)).test(show(observed))
    case 'sameItems': {
      const a = (Array.isArray(observed) ? observed : [observed]).map(show).sort()
      const b = (Array.isArray(expected) ? expected : [expected]).map(show).sort()
      return JSON.stringify(a) === JSON.stringify(b)
    }
  }
}

/** An empty text shows as "" so the table does not look blank. */
function display(value: unknown): string {
  return value === '' ? '""' : show(value)
}

/** One resolved check of an expect step: {check, observed, <comparator>: value, expected?: text}. */
export function evaluateCheck(c: Record<string, unknown>): CheckResult {
  const op = COMPARATORS.find((k) => k in c) as Comparator
  const expectedValue = c[op]
  const pass = compare(op, c.observed, expectedValue)
  return {
    check: String(c.check),
    expected: typeof c.expected === 'string' ? c.expected : `${SYMBOL[op]} ${display(expectedValue)}`,
    observed: display(c.observed),
    status: pass ? 'pass' : 'fail',
  }
}
