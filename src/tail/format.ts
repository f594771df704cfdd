import type {Paint} from '../report/terminal.js'

/**
 * What `evt tail` prints for one message: the NDJSON record (--json), the one-line pretty form, the
 * expanded envelope (--expand) and the dead-letter history. Everything here runs once per message,
 * so it avoids per-message closures, libraries and re-serialising what can be copied.
 */

/** The parts of an amqplib message the formatters read (kept structural so tests need no broker). */
export interface TailDelivery {
  fields: {exchange: string; routingKey: string; redelivered: boolean; deliveryTag: number}
  properties: {headers?: Record<string, unknown>; [key: string]: unknown}
  content: Buffer
}

/** The body decoded once: JSON when it parses, else raw bytes. */
export interface DecodedBody {
  json: boolean
  /** The parsed value (json) or undefined. */
  value: unknown
  /** The UTF-8 text (json) — kept so NDJSON can copy it instead of serialising again. */
  text: string
}

export function decodeBody(content: Buffer): DecodedBody {
  const first = firstNonSpace(content)
  // Only bytes that can start a JSON text are worth a parse attempt; binary fails fast here.
  if (
    first === 0x7b ||
    first === 0x5b ||
    first === 0x22 ||
    (first >= 0x30 && first <= 0x39) ||
    first === 0x2d ||
    first === 0x74 ||
    first === 0x66 ||
    first === 0x6e
  ) {
    const text = content.toString('utf8')
    try {
      return {json: true, value: JSON.parse(text), text}
    } catch {
      // not JSON after all
    }
  }
  return {json: false, value: undefined, text: ''}
}

function firstNonSpace(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c
  }
  return -1
}

const PROPERTY_KEYS = [
  'contentType',
  'contentEncoding',
  'deliveryMode',
  'priority',
  'correlationId',
  'replyTo',
  'expiration',
  'messageId',
  'timestamp',
  'type',
  'userId',
  'appId',
] as const

/** AMQP properties that are set, without headers (they get their own key). */
export function pickProperties(props: TailDelivery['properties']): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of PROPERTY_KEYS) {
    const v = props[k]
    if (v !== undefined && v !== null) out[k] = v
  }
  return out
}

/** Cache of the last receivedAt string: at thousands of messages a second most share a millisecond. */
let lastMs = -1
let lastIso = ''
export function isoNow(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = new Date(ms).toISOString()
  }
  return lastIso
}

/**
 * One NDJSON line (with the trailing newline). Keys, in this order, are the documented contract:
 * seq, receivedAt, vhost, exchange, routingKey, redelivered, tap, properties, headers, size, bodyEncoding, body.
 */
export function ndjsonLine(
  seq: number,
  receivedAtMs: number,
  vhost: string,
  tap: string,
  msg: TailDelivery,
  body: DecodedBody,
): string {
  const head = ndjsonHead(seq, receivedAtMs, vhost, tap, msg, body.json)
  if (!body.json) return `${head}"${msg.content.toString('base64')}"}\n`
  // The body is valid JSON already: copy its text unless it spans lines (NDJSON is one line each).
  return `${head}${isSingleLine(body) ? body.text : JSON.stringify(body.value)}}\n`
}

/** Whether a JSON body can be copied into a line as it is. */
export function isSingleLine(body: DecodedBody): boolean {
  return !body.text.includes('\n') && !body.text.includes('\r')
}

/** Everything of an NDJSON line before the body's value: `{"seq":...,"bodyEncoding":"json","body":`. */
export function ndjsonHead(
  seq: number,
  receivedAtMs: number,
  vhost: string,
  tap: string,
  msg: TailDelivery,
  json: boolean,
): string {
  const f = msg.fields
  return `{"seq":${seq},"receivedAt":"${isoNow(receivedAtMs)}","vhost":${quote(vhost)},"exchange":${quote(
    f.exchange,
  )},"routingKey":${quote(f.routingKey)},"redelivered":${f.redelivered},"tap":${quote(tap)},"properties":${propertiesJson(
    msg.properties,
  )},"headers":${headersJson(msg.properties.headers)},"size":${msg.content.length},"bodyEncoding":${
    json ? '"json"' : '"base64"'
  },"body":`
}

/** JSON strings of names that repeat on every message (vhost, exchange, routing key, tap). */
const quoted = new Map<string, string>()
function quote(s: string): string {
  let q = quoted.get(s)
  if (q === undefined) {
    q = JSON.stringify(s)
    if (quoted.size > 10_000) quoted.clear()
    quoted.set(s, q)
  }
  return q
}

function propertiesJson(props: TailDelivery['properties']): string {
  let out = ''
  for (const k of PROPERTY_KEYS) {
    const v = props[k]
    if (v === undefined || v === null) continue
    out += `${out === '' ? '{' : ','}"${k}":${JSON.stringify(v, typeof v === 'object' ? jsonReplacer : undefined)}`
  }
  return out === '' ? '{}' : `${out}}`
}

function headersJson(headers: Record<string, unknown> | undefined): string {
  if (headers === undefined) return '{}'
  let empty = true
  for (const _ in headers) {
    empty = false
    break
  }
  if (empty) return '{}'
  // A replacer makes stringify several times slower: use it only for what plain JSON gets wrong.
  try {
    const plain = JSON.stringify(headers)
    if (!plain.includes('"type":"Buffer"')) return plain
  } catch {
    // a bigint
  }
  return JSON.stringify(headers, jsonReplacer)
}

/** Header values can be Buffers (AMQP byte arrays) and bigints: keep the line valid JSON. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value && typeof value === 'object' && (value as {type?: string}).type === 'Buffer') {
    const data = (value as {data?: number[]}).data
    if (Array.isArray(data)) return {base64: Buffer.from(data).toString('base64')}
  }
  return value
}

// ---------- pretty ----------

export interface PrettyOptions {
  paint: Paint
  /** Characters available for the data preview (when lineWidth is not given). */
  previewWidth: number
  /** The terminal's width: the preview gets what the rest of the line leaves (at least 40 characters). */
  lineWidth?: number
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** HH:MM:SS.mmm in local time, without Date formatting helpers. */
export function clockTime(ms: number): string {
  const d = new Date(ms)
  const milli = d.getMilliseconds()
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}`
}

/** "evt_1a2b3c" from "evt_1a2b3c4d5e6f...", the first 8 characters of a UUID. */
export function shortId(id: unknown): string {
  if (typeof id !== 'string' && typeof id !== 'number') return '-'
  const s = String(id)
  const underscore = s.indexOf('_')
  if (underscore > 0 && underscore < 12) return s.slice(0, underscore + 7)
  return s.length > 8 ? s.slice(0, 8) : s
}

function eventType(body: DecodedBody, props: TailDelivery['properties']): string {
  if (body.json && body.value && typeof body.value === 'object') {
    const t = (body.value as {type?: unknown}).type
    if (typeof t === 'string') return t
  }
  return typeof props.type === 'string' ? props.type : '-'
}

/** The event type for the summary: the envelope's `type`, else the AMQP type property, else "-". */
export function typeOf(body: DecodedBody, props: TailDelivery['properties']): string {
  return eventType(body, props)
}

export function prettyLine(
  receivedAtMs: number,
  vhost: string,
  msg: TailDelivery,
  body: DecodedBody,
  options: PrettyOptions,
): string {
  const {paint} = options
  const f = msg.fields
  const exchange = f.exchange === '' ? '(default)' : f.exchange
  const value = body.value as Record<string, unknown> | undefined
  const isEnvelope = body.json && value !== null && typeof value === 'object' && !Array.isArray(value)
  const id = isEnvelope ? (value.id ?? msg.properties.messageId) : msg.properties.messageId
  const where = `${vhost}/${exchange}`
  const key = f.routingKey === '' ? '""' : f.routingKey
  const type = eventType(body, msg.properties)
  const short = shortId(id)
  const redelivered = f.redelivered ? ' (redelivered)' : ''
  // clock (12) + separators (10): the visible length of everything before the preview; the preview's own
  // closing ", ...}" (6) is not in its budget.
  const prefixLength = 22 + where.length + key.length + type.length + short.length + redelivered.length
  const width =
    options.lineWidth === undefined ? options.previewWidth : Math.max(40, options.lineWidth - prefixLength - 7)
  let preview: string
  if (!body.json) preview = binaryPreview(msg.content, msg.properties.contentType, paint)
  else if (isEnvelope && 'data' in value) preview = compactPreview(value.data, width, paint)
  else preview = compactPreview(body.value, width, paint)
  let line = `${paint('gray', clockTime(receivedAtMs))} ${paint('blue', where)} → ${paint('cyan', key)}  ${paint(
    'bold',
    type,
  )}  ${paint('magenta', short)}${redelivered ? ` ${paint('yellow', '(redelivered)')}` : ''}  ${preview}\n`
  const death = msg.properties.headers?.['x-death']
  if (Array.isArray(death) && death.length > 0) line += deathLines(death, paint)
  return line
}

/** Dead-letter history in words, one line per x-death entry (most recent first, as the broker keeps it). */
export function deathLines(death: unknown[], paint: Paint): string {
  let out = ''
  for (const entry of death) {
    if (!entry || typeof entry !== 'object') continue
    const d = entry as Record<string, unknown>
    const count = typeof d.count === 'number' ? d.count : 1
    const keys = Array.isArray(d['routing-keys']) ? (d['routing-keys'] as unknown[]).join(', ') : ''
    const exchange = d.exchange === '' ? '(default)' : String(d.exchange ?? '?')
    const when = deathTime(d.time)
    out += `    ${paint('yellow', '↳ dead-lettered')} from queue ${paint('bold', String(d.queue ?? '?'))} (${String(
      d.reason ?? '?',
    )}) ${count === 1 ? 'once' : `${count} times`}, originally ${exchange} → ${keys === '' ? '""' : keys}${
      when ? `, last at ${when}` : ''
    }\n`
  }
  return out
}

function deathTime(t: unknown): string {
  // amqplib gives AMQP timestamps as seconds, sometimes wrapped as {'!': 'timestamp', value}.
  const raw = t && typeof t === 'object' && 'value' in t ? (t as {value: unknown}).value : t
  if (typeof raw !== 'number') return ''
  return new Date(raw * 1000).toISOString()
}

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\ufffd]/g

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** A non-JSON body, safely: size, content type, and a printable preview of its start. */
export function binaryPreview(content: Buffer, contentType: unknown, paint: Paint): string {
  const type = typeof contentType === 'string' && contentType !== '' ? contentType : 'no content-type'
  const head = content.subarray(0, 48).toString('utf8').replace(UNPRINTABLE, '.')
  return `${paint('yellow', `[non-JSON ${formatSize(content.length)}, ${type}]`)} ${paint(
    'gray',
    JSON.stringify(head + (content.length > 48 ? '…' : '')),
  )}`
}

/** `{order_id: "order_x", total: 1000, ...}` cut to `width` visible characters. */
export function compactPreview(value: unknown, width: number, paint: Paint): string {
  return compactValue(value, paint, {left: Math.max(width, 16), cut: false}, 0)
}

function take(state: {left: number; cut: boolean}, visible: string): boolean {
  if (state.left < visible.length) {
    state.cut = true
    return false
  }
  state.left -= visible.length
  return true
}

function compactValue(value: unknown, paint: Paint, state: {left: number; cut: boolean}, depth: number): string {
  if (value === null || value === undefined) return take(state, 'null') ? paint('magenta', 'null') : '…'
  if (typeof value === 'string') {
    const s = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    return take(state, s) ? paint('green', s) : '…'
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    const s = String(value)
    return take(state, s) ? paint('yellow', s) : '…'
  }
  if (Array.isArray(value)) {
    if (depth >= 1) {
      const s = `[${value.length} item${value.length === 1 ? '' : 's'}]`
      return take(state, s) ? paint('gray', s) : '…'
    }
    if (!take(state, '[]')) return '…'
    const parts: string[] = []
    for (const item of value) {
      if (state.cut) break
      parts.push(compactValue(item, paint, state, depth + 1))
      take(state, ', ')
    }
    return `[${parts.join(', ')}${state.cut && parts.length < value.length ? ', ...' : ''}]`
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    if (depth >= 1) {
      const s = entries.length === 0 ? '{}' : '{…}'
      return take(state, s) ? paint('gray', s) : '…'
    }
    if (!take(state, '{}')) return '…'
    const parts: string[] = []
    let shown = 0
    for (const [k, v] of entries) {
      if (!take(state, `${k}: , `)) break
      const rendered = compactValue(v, paint, state, depth + 1)
      if (state.cut && rendered === '…') break
      parts.push(`${paint('gray', k)}: ${rendered}`)
      shown++
      if (state.cut) break
    }
    if (parts.length === 0 && entries.length > 0) return paint('gray', '{…}')
    return `{${parts.join(', ')}${shown < entries.length ? ', ...' : ''}}`
  }
  return String(value)
}

/** The whole message as colored, indented JSON: routing, properties, headers, body. */
export function expandedMessage(
  receivedAtMs: number,
  vhost: string,
  tap: string,
  msg: TailDelivery,
  body: DecodedBody,
  paint: Paint,
): string {
  const f = msg.fields
  const doc = {
    receivedAt: isoNow(receivedAtMs),
    vhost,
    exchange: f.exchange,
    routingKey: f.routingKey,
    redelivered: f.redelivered,
    tap,
    properties: pickProperties(msg.properties),
    headers: msg.properties.headers ?? {},
    size: msg.content.length,
    body: body.json ? body.value : {nonJson: binaryPreview(msg.content, msg.properties.contentType, (_c, t) => t)},
  }
  let out = `${coloredJson(doc, paint, '')}\n`
  const death = msg.properties.headers?.['x-death']
  if (Array.isArray(death) && death.length > 0) out += deathLines(death, paint)
  return out
}

export function coloredJson(value: unknown, paint: Paint, indent: string): string {
  if (value === null || value === undefined) return paint('magenta', 'null')
  if (typeof value === 'string') return paint('green', JSON.stringify(value))
  if (typeof value === 'number' || typeof value === 'boolean') return paint('yellow', String(value))
  if (typeof value === 'bigint') return paint('yellow', value.toString())
  if (Buffer.isBuffer(value)) return paint('gray', JSON.stringify(`<${value.length} bytes>`))
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    return `[\n${value.map((v) => inner + coloredJson(v, paint, inner)).join(',\n')}\n${indent}]`
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0) return '{}'
    return `{\n${entries
      .map(([k, v]) => `${inner}${paint('cyan', JSON.stringify(k))}: ${coloredJson(v, paint, inner)}`)
      .join(',\n')}\n${indent}}`
  }
  return JSON.stringify(String(value))
}
