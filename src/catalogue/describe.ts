import {generateEvent} from './generate.js'
import type {EventType} from './types.js'

/** What `evt events` lists of a type: where it goes, without its schema. */
export type EventTypeInfo = Pick<
  EventType,
  'name' | 'qualifiedName' | 'system' | 'vhost' | 'exchange' | 'routingKey' | 'description' | 'source' | 'version'
>

export interface EventTypeDetails extends EventTypeInfo {
  schema: unknown
  sample: {routingKey: string; properties: Record<string, unknown>; body: unknown}
  /** Human text (omitted from --json). */
  text?: string
}

export function listEventTypes(types: EventType[]): EventTypeInfo[] {
  return types.map(({name, qualifiedName, system, vhost, exchange, routingKey, description, source, version}) => ({
    name,
    qualifiedName,
    system,
    vhost,
    exchange,
    routingKey,
    description,
    source,
    version,
  }))
}

/** One type in full: where it goes, its data schema, and a sample (seed 1, so the output is stable). */
export async function describeEventType(type: EventType): Promise<EventTypeDetails> {
  const [info] = listEventTypes([type]) as [EventTypeInfo]
  const sample = await generateEvent(type, {seed: 1})
  const text = [
    `${type.qualifiedName} — ${type.description}`,
    `  vhost ${type.vhost}, exchange ${type.exchange}, routing key ${type.routingKey}, source ${type.source}, version ${type.version}`,
    `  fixture ${type.file}`,
    '',
    'Schema of data:',
    JSON.stringify(type.schema, null, 2),
    '',
    `Sample (routing key ${sample.routingKey}):`,
    JSON.stringify(sample.envelope, null, 2),
  ].join('\n')
  return {
    ...info,
    schema: type.schema,
    sample: {routingKey: sample.routingKey, properties: {...sample.properties}, body: sample.envelope},
    text,
  }
}
