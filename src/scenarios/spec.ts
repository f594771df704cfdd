import {UsageError} from '../errors.js'

/** Typed reads of a resolved step spec; a wrong type names the step path and the key. */
export class Spec {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly where: string,
  ) {}

  static of(value: unknown, where: string): Spec {
    if (value === null || value === undefined) return new Spec({}, where)
    if (typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${where}: expected a mapping`)
    return new Spec(value as Record<string, unknown>, where)
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined
  }

  str(key: string, fallback?: string): string {
    const v = this.raw[key]
    if (v === undefined && fallback !== undefined) return fallback
    if (typeof v === 'string') return v
    if (typeof v === 'number') return String(v)
    throw new UsageError(`${this.where}.${key}: expected text (got ${JSON.stringify(v)})`)
  }

  optStr(key: string): string | undefined {
    return this.raw[key] === undefined ? undefined : this.str(key)
  }

  num(key: string, fallback?: number): number {
    const v = this.raw[key]
    if (v === undefined && fallback !== undefined) return fallback
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
    if (typeof n === 'number' && Number.isFinite(n)) return n
    throw new UsageError(`${this.where}.${key}: expected a number (got ${JSON.stringify(v)})`)
  }

  bool(key: string, fallback = false): boolean {
    const v = this.raw[key]
    if (v === undefined) return fallback
    if (typeof v === 'boolean') return v
    if (v === 'true' || v === 'false') return v === 'true'
    throw new UsageError(`${this.where}.${key}: expected true or false (got ${JSON.stringify(v)})`)
  }

  strList(key: string): string[] {
    const v = this.raw[key]
    if (v === undefined) return []
    if (Array.isArray(v)) return v.map(String)
    return [String(v)]
  }

  obj(key: string): Record<string, unknown> | undefined {
    const v = this.raw[key]
    if (v === undefined) return undefined
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>
    throw new UsageError(`${this.where}.${key}: expected a mapping`)
  }

  list(key: string): unknown[] {
    const v = this.raw[key]
    if (v === undefined) return []
    if (Array.isArray(v)) return v
    throw new UsageError(`${this.where}.${key}: expected a list`)
  }

  /** `queue: x` or `queues: [x, y]`. */
  queues(): string[] {
    const qs = [...this.strList('queue'), ...this.strList('queues')]
    if (qs.length === 0) throw new UsageError(`${this.where}: name a queue (queue: or queues:)`)
    return qs
  }
}
