import type {AsyncAPIDocumentInterface, ChannelInterface, MessageInterface} from '@asyncapi/parser'
import type {SchemaNode} from '../../catalogue/types.js'
import {
  type Definitions,
  type DefinitionsBinding,
  type DefinitionsExchange,
  type DefinitionsQueue,
  emptyDefinitions,
} from '../../topology/definitions.js'
import {cleanSchema, parseAsyncApi} from './parse.js'

/** One catalogue entry as written to events/<system>/<name>.yaml. */
export interface EventFixture {
  name: string
  system: string
  vhost: string
  exchange: string
  routingKey: string
  description: string
  source: string
  version: string
  schema: SchemaNode
  examples?: Record<string, unknown>[]
}

export interface AsyncApiImport {
  /** The system (slug of info.title). */
  system: string
  title: string
  asyncapiVersion: string
  events: EventFixture[]
  topology: Definitions
  /** The body format its payloads describe: none, unless evt exported them around its envelope. */
  envelope: 'standard' | 'none' | 'cloudevents'
  /** What the document did not say and evt assumed. */
  notes: string[]
}

interface AmqpExchange {
  name?: string
  type?: string
  durable?: boolean
  autoDelete?: boolean
  vhost?: string
}
interface AmqpQueue {
  name?: string
  durable?: boolean
  exclusive?: boolean
  autoDelete?: boolean
  vhost?: string
}
interface AmqpChannelBinding {
  is?: 'routingKey' | 'queue'
  exchange?: AmqpExchange
  queue?: AmqpQueue
}

interface RoutedChannel {
  channel: ChannelInterface
  exchange: DefinitionsExchange
  /** The address with each {parameter} filled: a literal, `*` (for bindings) or {data.x} (for publishing). */
  address: string
  params: Param[]
}

interface Param {
  name: string
  /** A value to use when the payload has no field of that name. */
  literal: string
}

/**
 * An AsyncAPI 2.x/3.x document as evt's catalogue and topology. Channels with an AMQP `routingKey` binding
 * give exchanges and one event type per message (published to that exchange with the channel's address as
 * routing key; a {parameter} that is a payload field becomes {data.<field>}); `queue` channels give queues,
 * bound to the exchange of every routingKey channel that carries one of the queue's messages. Message
 * `examples` become the entry's fixed data.
 */
export async function importAsyncApi(text: string, shown: string): Promise<AsyncApiImport> {
  const doc = await parseAsyncApi(text, shown)
  return fromDocument(doc)
}

export function fromDocument(doc: AsyncAPIDocumentInterface): AsyncApiImport {
  const title = doc.info().title()
  const system = slug(title) || 'system'
  const version = doc.info().version()
  const notes: string[] = []
  let envelope: AsyncApiImport['envelope'] = 'none'
  const topology: Definitions = emptyDefinitions()
  const exchanges = new Map<string, DefinitionsExchange>()
  const addExchange = (e: DefinitionsExchange): DefinitionsExchange => {
    const key = `${e.vhost}\0${e.name}`
    const found = exchanges.get(key)
    if (found) return found
    exchanges.set(key, e)
    if (e.name !== '') topology.exchanges.push(e)
    return e
  }
  const queues = new Map<string, DefinitionsQueue>()
  const addQueue = (q: DefinitionsQueue): DefinitionsQueue => {
    const key = `${q.vhost}\0${q.name}`
    const found = queues.get(key)
    if (found) return found
    queues.set(key, q)
    topology.queues.push(q)
    return q
  }
  const bindingKeys = new Set<string>()
  const addBinding = (b: DefinitionsBinding) => {
    const key = `${b.vhost}\0${b.source}\0${b.destination}\0${b.routing_key}`
    if (bindingKeys.has(key)) return
    bindingKeys.add(key)
    topology.bindings.push(b)
  }

  const routed: RoutedChannel[] = []
  const queueChannels: {channel: ChannelInterface; queue: DefinitionsQueue}[] = []
  for (const channel of doc.channels()) {
    const address = channel.address() ?? channel.id()
    const binding = amqpBinding(channel)
    if (binding?.is === 'queue') {
      const q = binding.queue ?? {}
      if (q.exclusive) {
        notes.push(`channel ${channel.id()}: exclusive queue ${q.name ?? address} left to its consumer`)
        continue
      }
      const queue = addQueue({
        name: q.name ?? address,
        vhost: q.vhost ?? '/',
        durable: q.durable ?? true,
        auto_delete: q.autoDelete ?? false,
        arguments: {},
      })
      queueChannels.push({channel, queue})
      continue
    }
    const x = binding?.exchange
    if (!binding)
      notes.push(`channel ${channel.id()}: no AMQP binding; its messages go to the topic exchange ${system}`)
    const exchange = addExchange({
      name: x?.name ?? (binding ? '' : system),
      vhost: x?.vhost ?? binding?.queue?.vhost ?? '/',
      type: x?.type ?? 'topic',
      durable: x?.durable ?? true,
      auto_delete: x?.autoDelete ?? false,
      internal: false,
      arguments: {},
    })
    const params = channel
      .parameters()
      .all()
      .map((p): Param => {
        const json = (p.hasSchema() ? (p.schema()?.json() ?? {}) : {}) as Record<string, unknown>
        const list = Array.isArray(json.enum) ? json.enum : Array.isArray(json.examples) ? json.examples : []
        const literal = json.default ?? list[0] ?? p.id()
        return {name: p.id(), literal: String(literal)}
      })
    const route = {channel, exchange, address, params}
    routed.push(route)
    // A routingKey channel that also names a queue: that queue is bound to the exchange with the address.
    if (binding?.queue?.name) {
      const queue = addQueue({
        name: binding.queue.name,
        vhost: binding.queue.vhost ?? exchange.vhost,
        durable: binding.queue.durable ?? true,
        auto_delete: binding.queue.autoDelete ?? false,
        arguments: {},
      })
      bind(route, queue)
    }
  }

  function bindingKey(route: RoutedChannel): string {
    if (route.exchange.type === 'fanout') return ''
    return route.address.replace(/\{([^}]+)\}/g, (_m, name: string) =>
      route.exchange.type === 'topic' ? '*' : (route.params.find((p) => p.name === name)?.literal ?? name),
    )
  }
  function bind(route: RoutedChannel, queue: DefinitionsQueue): void {
    if (route.exchange.name === '') return
    addBinding({
      source: route.exchange.name,
      vhost: route.exchange.vhost,
      destination: queue.name,
      destination_type: 'queue',
      routing_key: bindingKey(route),
      arguments: {},
    })
  }

  // Queues receive what the routingKey channels carrying the same messages publish.
  for (const {channel, queue} of queueChannels) {
    const carried = new Set(channel.messages().all().map(messageKey))
    const sources = routed.filter((r) =>
      r.channel
        .messages()
        .all()
        .some((m) => carried.has(messageKey(m))),
    )
    if (sources.length === 0 && carried.size > 0)
      notes.push(`queue ${queue.name}: no routingKey channel carries its messages, left unbound`)
    for (const route of sources) bind(route, queue)
  }

  const events: EventFixture[] = []
  const seen = new Set<string>()
  const push = (fixture: EventFixture) => {
    const key = `${fixture.system}/${fixture.name}`
    if (seen.has(key)) {
      const first = events.find((e) => `${e.system}/${e.name}` === key)
      notes.push(
        `message ${fixture.name} is on several channels: the first (${first?.routingKey}) is its catalogue entry`,
      )
      return
    }
    seen.add(key)
    events.push(fixture)
  }
  for (const route of routed) {
    for (const message of route.channel.messages()) {
      const payload = (message.hasPayload() ? cleanSchema(message.payload()?.json()) : {type: 'object'}) as SchemaNode
      const fields = new Set(Object.keys(payload.properties ?? {}))
      const routingKey = sendCc(doc, route.channel) ?? publishKey(route, fields)
      push(entry(message, route.exchange, routingKey, payload))
    }
  }
  // Messages only ever read from a queue: published to it through the default exchange.
  for (const {channel, queue} of queueChannels) {
    for (const message of channel.messages()) {
      if (seen.has(`${systemOf(message)}/${messageName(message)}`)) continue
      const payload = (message.hasPayload() ? cleanSchema(message.payload()?.json()) : {type: 'object'}) as SchemaNode
      const defaultExchange: DefinitionsExchange = {
        name: '',
        vhost: queue.vhost,
        type: 'direct',
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      }
      push(entry(message, defaultExchange, queue.name, payload))
    }
  }

  function entry(
    message: MessageInterface,
    exchange: DefinitionsExchange,
    routingKey: string,
    payload: SchemaNode,
  ): EventFixture {
    // A payload evt exported around its envelope: the catalogue holds the data schema.
    const marked = payload['x-evt-envelope']
    const data = payload.properties?.data
    let schema = payload
    if ((marked === 'standard' || marked === 'cloudevents') && data) {
      envelope = marked
      schema = data
    }
    const examples = message
      .examples()
      .all()
      .map((e) => e.payload())
      .filter((p): p is Record<string, unknown> => p !== null && typeof p === 'object' && !Array.isArray(p))
    const description =
      message.summary() ??
      message.description() ??
      message.title() ??
      `${messageName(message)} (imported from AsyncAPI)`
    return {
      name: messageName(message),
      system: systemOf(message),
      vhost: exchange.vhost,
      exchange: exchange.name,
      routingKey,
      description: description.trim(),
      source: extension(message, 'x-evt-source') ?? system,
      version,
      schema: {type: 'object', ...schema},
      ...(examples.length > 0 ? {examples} : {}),
    }
  }

  /** evt's own exports say which system and service each message belongs to. */
  function systemOf(message: MessageInterface): string {
    return extension(message, 'x-evt-system') ?? system
  }

  const vhosts = new Set([...topology.exchanges.map((e) => e.vhost), ...topology.queues.map((q) => q.vhost)])
  topology.vhosts = [...vhosts].sort().map((name) => ({name, description: `${title} ${version} (from AsyncAPI)`}))
  return {system, title, asyncapiVersion: doc.version(), events, topology, envelope, notes}
}

function publishKey(route: RoutedChannel, fields: Set<string>): string {
  return route.address.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    fields.has(name) ? `{data.${name}}` : (route.params.find((p) => p.name === name)?.literal ?? name),
  )
}

/** The routing key a send operation's AMQP binding names (`cc`), when it does. */
function sendCc(doc: AsyncAPIDocumentInterface, channel: ChannelInterface): string | undefined {
  for (const op of doc.operations()) {
    if (
      !op.isSend() ||
      !op
        .channels()
        .all()
        .some((c) => c.id() === channel.id())
    )
      continue
    const cc = (op.bindings().get('amqp')?.value() as {cc?: unknown} | undefined)?.cc
    if (Array.isArray(cc) && typeof cc[0] === 'string') return cc[0]
  }
  return undefined
}

function amqpBinding(channel: ChannelInterface): AmqpChannelBinding | undefined {
  const b = channel.bindings().get('amqp')
  return b ? (b.value() as AmqpChannelBinding) : undefined
}

function extension(message: MessageInterface, name: string): string | undefined {
  const value: unknown = message.extensions().get(name)?.value()
  return typeof value === 'string' ? value : undefined
}

function messageName(message: MessageInterface): string {
  const amqp = message.bindings().get('amqp')?.value() as {messageType?: unknown} | undefined
  const name = typeof amqp?.messageType === 'string' ? amqp.messageType : (message.name() ?? message.id())
  return String(name)
}

function messageKey(message: MessageInterface): string {
  return messageName(message)
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
}
