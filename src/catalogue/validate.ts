import type {ErrorObject, ValidateFunction} from 'ajv'
import {UsageError} from '../errors.js'
import type {EventType} from './types.js'

export type DataValidator = (data: unknown) => string[]

const cache = new WeakMap<EventType, ValidateFunction>()
let ajvInstance: {compile: (schema: object) => ValidateFunction} | undefined

/** An ajv validator of the type's `data` schema: returns one line per violation (empty when valid). */
export async function dataValidator(type: EventType): Promise<DataValidator> {
  let validate = cache.get(type)
  if (!validate) {
    if (!ajvInstance) {
      const [{Ajv}, formats] = await Promise.all([import('ajv'), import('ajv-formats')])
      // strict: false lets the x- recipe annotations sit in the schema.
      const ajv = new Ajv({allErrors: true, strict: false})
      // ajv-formats is CommonJS: its plugin is module.exports.default as well as module.exports.
      formats.default.default(ajv)
      ajvInstance = ajv
    }
    const {$schema: _ignored, ...schema} = type.schema as Record<string, unknown>
    validate = ajvInstance.compile(schema)
    cache.set(type, validate)
  }
  const fn = validate
  return (data) => (fn(data) ? [] : (fn.errors ?? []).map(formatAjvError))
}

function formatAjvError(e: ErrorObject): string {
  const where = `data${e.instancePath.replace(/\//g, '.')}`
  if (e.keyword === 'enum') return `${where} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`
  if (e.keyword === 'additionalProperties') return `${where} has unknown property "${e.params.additionalProperty}"`
  return `${where} ${e.message}`
}

export function schemaViolation(type: EventType, errors: string[]): UsageError {
  return new UsageError(
    `the data for ${type.qualifiedName} does not match its schema:\n  - ${errors.join('\n  - ')}`,
    `See the schema with \`evt events ${type.qualifiedName}\``,
    {type: type.qualifiedName, errors},
  )
}

/** One schema violation: where (a JSON path such as `$.data.items[0].price`) and what. */
export interface Violation {
  path: string
  message: string
}

/** Like dataValidator, with each violation's JSON path under `root` (e.g. `$.data`) kept apart. */
export async function violationChecker(type: EventType, root = '$'): Promise<(data: unknown) => Violation[]> {
  await dataValidator(type)
  const fn = cache.get(type)
  if (!fn) throw new Error(`no validator for ${type.qualifiedName}`)
  return (data) => (fn(data) ? [] : (fn.errors ?? []).map((e) => toViolation(e, root)))
}

function toViolation(e: ErrorObject, root: string): Violation {
  const path = `${root}${e.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')}`
  if (e.keyword === 'additionalProperties')
    return {path, message: `has unknown property "${String(e.params.additionalProperty)}"`}
  if (e.keyword === 'required') return {path, message: `must have property "${String(e.params.missingProperty)}"`}
  if (e.keyword === 'enum')
    return {path, message: `must be one of ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`}
  return {path, message: e.message ?? e.keyword}
}
