import type {EnvelopeKind, EventType} from '../catalogue/types.js'
import type {Violation} from '../catalogue/validate.js'

/** A message as the tail's NDJSON gives it (the keys verify reads). */
export interface TappedMessage {
  seq: number
  vhost: string
  exchange: string
  routingKey: string
  properties: {type?: string; [key: string]: unknown}
  bodyEncoding: 'json' | 'base64'
  body: unknown
}

export type MessageStatus = 'valid' | 'invalid' | 'unknown'

export interface MessageResult {
  seq: number
  vhost: string
  exchange: string
  routingKey: string
  /** The catalogue type it was checked against (qualified name). */
  type?: string
  status: MessageStatus
  violations: Violation[]
}

/** A routing-key template (`vessel.{data.berth}.arrived`) as a matcher of concrete keys. */
export function keyMatcher(template: string): RegExp {
  const parts = template.split(/\{[^}]+\}/).map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('[^.]+')}$`)
}

/**
 * The catalogue type a message claims to be: its AMQP `type` property or its envelope's `type`, among the
 * types published to its exchange with a matching routing key; else the one type its exchange and routing
 * key match; else (a type name but another route) the type of that name.
 */
export function matchType(types: EventType[], msg: TappedMessage): EventType | undefined {
  const body = msg.body !== null && typeof msg.body === 'object' ? (msg.body as Record<string, unknown>) : {}
  const claimed = msg.properties.type ?? (typeof body.type === 'string' ? body.type : undefined)
  const routed = types.filter(
    (t) => t.vhost === msg.vhost && t.exchange === msg.exchange && keyMatcher(t.routingKey).test(msg.routingKey),
  )
  if (claimed) {
    const named = routed.find((t) => t.name === claimed)
    if (named) return named
  }
  if (routed.length === 1 || (routed.length > 1 && !claimed)) return routed[0]
  if (claimed)
    return types.find((t) => t.name === claimed && t.vhost === msg.vhost) ?? types.find((t) => t.name === claimed)
  return undefined
}

/** What in the body the schema describes: `data` inside an envelope, or the whole body with `none`. */
export function payloadOf(
  msg: TappedMessage,
  envelope: EnvelopeKind,
): {value: unknown; root: string} | {problem: Violation} {
  if (msg.bodyEncoding !== 'json') return {problem: {path: '$', message: 'the body is not JSON'}}
  if (envelope === 'none') return {value: msg.body, root: '$'}
  const body = msg.body
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('data' in body))
    return {
      problem: {path: '$', message: `must be an evt ${envelope} envelope with "data" (or verify with --envelope none)`},
    }
  return {value: (body as {data: unknown}).data, root: '$.data'}
}

export async function checkMessage(
  types: EventType[],
  msg: TappedMessage,
  envelope: EnvelopeKind,
): Promise<MessageResult> {
  const base = {seq: msg.seq, vhost: msg.vhost, exchange: msg.exchange, routingKey: msg.routingKey}
  const type = matchType(types, msg)
  if (!type)
    return {
      ...base,
      status: 'unknown',
      violations: [{path: '$', message: 'no catalogue type for this routing key or type'}],
    }
  const payload = payloadOf(msg, envelope)
  if ('problem' in payload) return {...base, type: type.qualifiedName, status: 'invalid', violations: [payload.problem]}
  const {violationChecker} = await import('../catalogue/validate.js')
  const violations = (await violationChecker(type, payload.root))(payload.value)
  return {...base, type: type.qualifiedName, status: violations.length > 0 ? 'invalid' : 'valid', violations}
}
