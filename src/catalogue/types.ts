/** A JSON Schema node as found in a fixture, with evt's `x-` recipe annotations. */
export interface SchemaNode {
  type?: string | string[]
  properties?: Record<string, SchemaNode>
  required?: string[]
  items?: SchemaNode
  enum?: unknown[]
  const?: unknown
  format?: string
  pattern?: string
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  minLength?: number
  maxLength?: number
  'x-faker'?: string
  'x-faker-args'?: unknown
  'x-pattern'?: string
  'x-derive'?: string
  'x-value'?: unknown
  'x-decimals'?: number
  [key: string]: unknown
}

/** One entry of the catalogue: a documented event type of one system. */
export interface EventType {
  /** e.g. `order.created` */
  name: string
  /** `<system>/<name>`, unique across the catalogue. */
  qualifiedName: string
  system: string
  vhost: string
  exchange: string
  /** May be a template such as `customers.created.{month}` (see docs/publish.md). */
  routingKey: string
  description: string
  /** The producing service, used as envelope `source` and AMQP `appId`. */
  source: string
  version: string
  /** JSON Schema of the envelope's `data`. */
  schema: SchemaNode
  /** Fixed data (an AsyncAPI message's `examples`): published in turn instead of generated data. */
  examples?: Record<string, unknown>[]
  /** The fixture file it came from. */
  file: string
}

export type EnvelopeKind = 'standard' | 'none' | 'cloudevents'
