import type {EnvelopeKind, EventType, SchemaNode} from '../../catalogue/types.js'
import type {Definitions} from '../../topology/definitions.js'
import {routeMessage} from '../../topology/routing.js'

export interface ExportInput {
  title: string
  version?: string
  types: EventType[]
  defs: Definitions
  /** The body format on the wire: the payloads describe the envelope around `data` unless `none`. */
  envelope: EnvelopeKind
  /** A routing key for each type (templated keys filled, for routing the type through the bindings). */
  sampleKey: (type: EventType) => string
}

type Json = Record<string, unknown>

/**
 * The catalogue and topology as an AsyncAPI 3.0 document: one channel per (exchange, routing key) with an
 * AMQP routingKey binding, one `send` operation per event type, one channel per queue with an AMQP queue
 * binding and a `receive` operation listing the types its bindings route there. Routing-key placeholders
 * become channel parameters. Payloads are what is on the wire: the envelope around `data` (marked
 * `x-evt-envelope`, so that `evt init --asyncapi` reads the data schema back) unless the envelope is none.
 */
export function toAsyncApi(input: ExportInput): Json {
  const {defs, types} = input
  const channels: Json = {}
  const operations: Json = {}
  const messages: Json = {}
  const exchangeOf = (vhost: string, name: string) => defs.exchanges.find((e) => e.vhost === vhost && e.name === name)
  const channelIds = new Map<string, string>()
  const queueTypes = new Map<string, {vhost: string; name: string; messageIds: string[]}>()

  for (const type of types) {
    const msgId = safeId(`${type.system}.${type.name}`)
    messages[msgId] = message(type, input.envelope)
    const key = `${type.vhost}\0${type.exchange}\0${type.routingKey}`
    let chanId = channelIds.get(key)
    if (!chanId) {
      chanId = uniqueId(channels, safeId(`${type.exchange || 'default'}.${type.routingKey.replace(/[{}]/g, '')}`))
      channelIds.set(key, chanId)
      const {address, parameters} = addressOf(type)
      const x = exchangeOf(type.vhost, type.exchange)
      channels[chanId] = {
        address,
        messages: {},
        ...(Object.keys(parameters).length > 0 ? {parameters} : {}),
        bindings: {
          amqp: {
            is: 'routingKey',
            exchange: {
              name: type.exchange === '' ? 'amq.default' : type.exchange,
              type: x?.type ?? (type.exchange === '' ? 'direct' : 'topic'),
              durable: x?.durable ?? true,
              autoDelete: x?.auto_delete ?? false,
              vhost: type.vhost,
            },
            bindingVersion: '0.3.0',
          },
        },
      }
    }
    ;((channels[chanId] as Json).messages as Json)[msgId] = {$ref: `#/components/messages/${msgId}`}
    operations[uniqueId(operations, safeId(`send.${type.system}.${type.name}`))] = {
      action: 'send',
      channel: {$ref: `#/channels/${chanId}`},
      summary: `${type.source} publishes ${type.name}`,
      messages: [{$ref: `#/channels/${chanId}/messages/${msgId}`}],
      bindings: {amqp: {deliveryMode: 2, mandatory: true, bindingVersion: '0.3.0'}},
    }
    const exchange = type.exchange === '' ? '' : type.exchange
    for (const queue of routeMessage(defs, type.vhost, exchange, input.sampleKey(type))) {
      const qKey = `${type.vhost}\0${queue}`
      const entry = queueTypes.get(qKey) ?? {vhost: type.vhost, name: queue, messageIds: []}
      entry.messageIds.push(msgId)
      queueTypes.set(qKey, entry)
    }
  }

  for (const q of defs.queues) {
    const chanId = uniqueId(channels, safeId(`queue.${q.name}`))
    const routed = queueTypes.get(`${q.vhost}\0${q.name}`)?.messageIds ?? []
    channels[chanId] = {
      address: q.name,
      messages: Object.fromEntries(routed.map((id) => [id, {$ref: `#/components/messages/${id}`}])),
      bindings: {
        amqp: {
          is: 'queue',
          queue: {name: q.name, durable: q.durable, exclusive: false, autoDelete: q.auto_delete, vhost: q.vhost},
          bindingVersion: '0.3.0',
        },
      },
    }
    if (routed.length > 0) {
      operations[uniqueId(operations, safeId(`receive.${q.name}`))] = {
        action: 'receive',
        channel: {$ref: `#/channels/${chanId}`},
        summary: `What the bindings route to ${q.vhost === '/' ? '' : `${q.vhost}/`}${q.name}`,
        messages: routed.map((id) => ({$ref: `#/channels/${chanId}/messages/${id}`})),
        bindings: {amqp: {ack: true, bindingVersion: '0.3.0'}},
      }
    }
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: input.title,
      version: input.version ?? '1.0.0',
      description: `Event catalogue and RabbitMQ topology exported by evt (${types.length} event types, ${defs.queues.length} queues).`,
    },
    defaultContentType: input.envelope === 'cloudevents' ? 'application/cloudevents+json' : 'application/json',
    servers: {local: {host: 'localhost:5672', protocol: 'amqp', protocolVersion: '0.9.1'}},
    channels,
    operations,
    components: {messages},
  }
}

function message(type: EventType, envelope: EnvelopeKind): Json {
  const data = stripRecipe(type.schema) as SchemaNode
  return {
    name: type.name,
    title: type.name,
    summary: type.description.split('\n')[0],
    contentType: envelope === 'cloudevents' ? 'application/cloudevents+json' : 'application/json',
    payload: envelope === 'none' ? data : envelopeSchema(envelope, data),
    bindings: {amqp: {messageType: type.name, bindingVersion: '0.3.0'}},
    'x-evt-system': type.system,
    'x-evt-source': type.source,
    ...(type.examples?.length && envelope === 'none'
      ? {examples: type.examples.map((payload, i) => ({name: `example ${i + 1}`, payload}))}
      : {}),
  }
}

function envelopeSchema(kind: EnvelopeKind, data: SchemaNode): Json {
  const str = {type: 'string'}
  if (kind === 'cloudevents')
    return {
      type: 'object',
      'x-evt-envelope': 'cloudevents',
      required: ['specversion', 'id', 'source', 'type', 'data'],
      properties: {
        specversion: {const: '1.0'},
        id: str,
        source: str,
        type: str,
        time: {type: 'string', format: 'date-time'},
        datacontenttype: str,
        tenantid: str,
        correlationid: str,
        data,
      },
    }
  return {
    type: 'object',
    'x-evt-envelope': 'standard',
    required: ['id', 'type', 'source', 'timestamp', 'data'],
    properties: {
      id: {type: 'string', pattern: '^evt_'},
      type: str,
      source: str,
      timestamp: {type: 'string', format: 'date-time'},
      tenant_id: str,
      correlation_id: str,
      data,
      metadata: {type: 'object'},
    },
  }
}

/** Routing-key placeholders ({data.x}, {month}) as AsyncAPI channel parameters. */
function addressOf(type: EventType): {address: string; parameters: Json} {
  const parameters: Json = {}
  const address = type.routingKey.replace(/\{([^}]+)\}/g, (_m, token: string) => {
    const id = safeParam(token.startsWith('data.') ? token.slice(5) : token)
    const field = token.startsWith('data.') ? type.schema.properties?.[token.slice(5)] : undefined
    parameters[id] = {
      description: token.startsWith('data.') ? `The event's ${token.slice(5)}` : `The ${token} of the event's time`,
      ...(Array.isArray(field?.enum) ? {enum: field.enum.map(String)} : {}),
    }
    return `{${id}}`
  })
  return {address, parameters}
}

/** The schema without evt's x- recipe annotations (and $schema). */
export function stripRecipe(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripRecipe)
  if (value === null || typeof value !== 'object') return value
  const out: Json = {}
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('x-') || key === '$schema') continue
    out[key] = stripRecipe(child)
  }
  return out
}

function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_')
}
function safeParam(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_')
}
function uniqueId(taken: Json, id: string): string {
  let out = id
  for (let i = 2; out in taken; i++) out = `${id}_${i}`
  return out
}
