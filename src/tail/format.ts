import {isUtf8} from 'node:buffer'
import {gunzipSync, inflateSync} from 'node:zlib'
import {AMQP_PROPERTY_KEYS} from '../amqp/properties.js'
import type {Paint} from '../ui/terminal.js'
import {showVhostName} from './plan.js'

/**
 * What `evt tail` prints for one message: the NDJSON record (--json), the one-line pretty form, the
 * expanded envelope (--expand) and the dead-letter history. Everything here runs once per message,
 * so it avoids per-message closures, libraries and re-serialising what can be copied.
 */

/** The parts of an amqplib message the formatters read (kept structural so tests need no broker). */
export interface TailProperties {
  headers?: Record<string, unknown>
  contentType?: unknown
  contentEncoding?: unknown
  deliveryMode?: unknown
  priority?: unknown
  correlationId?: unknown
  replyTo?: unknown
  expiration?: unknown
  messageId?: unknown
  timestamp?: unknown
  type?: unknown
  userId?: unknown
  appId?: unknown
}

export interface TailDelivery {
  fields: {exchange: string; routingKey: string; redelivered: boolean; deliveryTag: number}
  properties: TailProperties
  content: Buffer
}

/** The body decoded once: JSON when it parses, else UTF-8 text when it is text, else raw bytes. */
export interface DecodedBody {
  json: boolean
  /** The parsed value (json) or undefined. */
  value: unknown
  /** The UTF-8 text (json or utf8) — kept so NDJSON can copy it instead of serialising again. */
  text: string
  /** Not JSON, but valid UTF-8 text without control characters (other than tab, CR, LF). */
  utf8?: boolean
}

const TRACE_PROPERTIES: Record<string, keyof TailProperties> = {
  content_type: 'contentType',
  content_encoding: 'contentEncoding',
  headers: 'headers',
  delivery_mode: 'deliveryMode',
  priority: 'priority',
  correlation_id: 'correlationId',
  reply_to: 'replyTo',
  expiration: 'expiration',
  message_id: 'messageId',
  timestamp: 'timestamp',
  type: 'type',
  user_id: 'userId',
  app_id: 'appId',
}

/**
 * A firehose trace message (amq.rabbitmq.trace, "publish.<exchange>") as the message it reports: its exchange,
 * routing key and properties come from the trace headers. Undefined when it is not about the tap's queue.
 */
export function unwrapTrace(msg: TailDelivery, match: {queue?: string; exchange?: string}): TailDelivery | undefined {
  const h = msg.properties.headers ?? {}
  const exchange = typeof h.exchange_name === 'string' ? h.exchange_name : ''
  if (match.exchange !== undefined && exchange !== match.exchange) return undefined
  if (match.queue !== undefined) {
    const routed = h.routed_queues
    if (!Array.isArray(routed) || !routed.includes(match.queue)) return undefined
  }
  const keys = Array.isArray(h.routing_keys) ? h.routing_keys : []
  const properties: TailProperties = {}
  const traced = h.properties
  if (traced && typeof traced === 'object') {
    for (const [k, v] of Object.entries(traced)) {
      const name = TRACE_PROPERTIES[k]
      if (name !== undefined) Object.assign(properties, {[name]: v})
    }
  }
  return {
    fields: {
      exchange,
      routingKey: typeof keys[0] === 'string' ? keys[0] : '',
      redelivered: false,
      deliveryTag: msg.fields.deliveryTag,
    },
    properties,
    content: msg.content,
  }
}

/** Text bodies: valid UTF-8 without control characters other than tab, CR and LF. */
export function isText(content: Buffer): boolean {
  for (let i = 0; i < content.length; i++) {
    const c = content[i]
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false
  }
  return isUtf8(content)
}

/** gzip / deflate bodies decompressed for display (undefined when not compressed or not decodable). */
export function inflateForDisplay(content: Buffer, contentEncoding: unknown): Buffer | undefined {
  if (typeof contentEncoding !== 'string') return undefined
  const enc = contentEncoding.toLowerCase()
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(content)
    if (enc === 'deflate') return inflateSync(content)
  } catch {
    return undefined
  }
  return undefined
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
  if (content.length > 0 && isText(content))
    return {json: false, utf8: true, value: undefined, text: content.toString()}
  return {json: false, value: undefined, text: ''}
}

function firstNonSpace(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c
  }
  return -1
}

/** AMQP properties that are set, without headers (they get their own key). */
export function pickProperties(props: TailDelivery['properties']): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of AMQP_PROPERTY_KEYS) {
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

export type BodyEncoding = 'json' | 'utf8' | 'base64'

/**
 * One NDJSON line (with the trailing newline). Keys, in this order, are the documented contract:
 * seq, receivedAt, vhost, exchange, routingKey, redelivered, tap, properties, headers, size, bodyEncoding, body.
 * bodyEncoding: "json" (the body's own JSON text, copied), "utf8" (text, as a JSON string), "base64" (binary).
 * `exact` (--save): a JSON body that spans lines is kept as utf8 text, so a replay sends the same bytes.
 */
export function ndjsonLine(
  seq: number,
  receivedAtMs: number,
  vhost: string,
  tap: string,
  msg: TailDelivery,
  body: DecodedBody,
  exact = false,
): string {
  let encoding: BodyEncoding = body.json ? 'json' : body.utf8 ? 'utf8' : 'base64'
  if (encoding === 'json' && exact && !isSingleLine(body)) encoding = 'utf8'
  const head = ndjsonHead(seq, receivedAtMs, vhost, tap, msg, encoding)
  if (encoding === 'base64') return `${head}"${msg.content.toString('base64')}"}\n`
  if (encoding === 'utf8') return `${head}${JSON.stringify(msg.content.toString('utf8'))}}\n`
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
  encoding: BodyEncoding | boolean,
): string {
  const enc = encoding === true ? 'json' : encoding === false ? 'base64' : encoding
  const f = msg.fields
  return `{"seq":${seq},"receivedAt":"${isoNow(receivedAtMs)}","vhost":${quote(vhost)},"exchange":${quote(
    f.exchange,
  )},"routingKey":${quote(f.routingKey)},"redelivered":${f.redelivered},"tap":${quote(tap)},"properties":${propertiesJson(
    msg.properties,
  )},"headers":${headersJson(msg.properties.headers)},"size":${msg.content.length},"bodyEncoding":"${enc}","body":`
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
  for (const k of AMQP_PROPERTY_KEYS) {
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
  /** Column widths shared by the lines of one tail (aligned columns). */
  columns?: Columns
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
  const where = showVhostName(vhost, exchange)
  const key = f.routingKey === '' ? '""' : f.routingKey
  const rawType = eventType(body, msg.properties)
  // The type only when it says something the routing key does not.
  const type = rawType === f.routingKey || rawType === '-' ? '' : rawType
  const short = shortId(id)
  const redelivered = f.redelivered ? ' (redelivered)' : ''
  // Columns line up: each grows to the widest value seen so far (capped), so lines stay aligned as they come.
  const cols = options.columns
  const route = `${where} → ${key}`
  const routeWidth = cols ? grow(cols, 'route', route.length) : route.length
  const typeWidth = cols ? grow(cols, 'type', type.length) : type.length
  const idWidth = cols ? grow(cols, 'id', short.length) : short.length
  const routePad = ' '.repeat(Math.max(0, routeWidth - route.length))
  const typePad = ' '.repeat(Math.max(0, typeWidth - type.length))
  const idPad = ' '.repeat(Math.max(0, idWidth - short.length))
  // clock (12) + the spaces between columns: the visible length of everything before the preview.
  const prefixLength =
    13 +
    Math.max(routeWidth, route.length) +
    2 +
    (typeWidth > 0 ? Math.max(typeWidth, type.length) + 2 : 0) +
    Math.max(idWidth, short.length) +
    redelivered.length +
    2
  const width =
    options.lineWidth === undefined ? options.previewWidth : Math.max(40, options.lineWidth - prefixLength - 7)
  let preview: string
  const inflated = inflateForDisplay(msg.content, msg.properties.contentEncoding)
  const shown = inflated === undefined ? body : decodeBody(inflated)
  const shownValue = shown.value as Record<string, unknown> | undefined
  const shownEnvelope =
    shown.json && shownValue !== null && typeof shownValue === 'object' && !Array.isArray(shownValue)
  if (shown.utf8) preview = paint('green', cutText(shown.text, width))
  else if (!shown.json) preview = binaryPreview(inflated ?? msg.content, msg.properties.contentType, paint)
  else if (shownEnvelope && 'data' in shownValue) preview = compactPreview(shownValue.data, width, paint)
  else preview = compactPreview(shown.value, width, paint)
  let line = `${paint('gray', clockTime(receivedAtMs))} ${paint('blue', where)} → ${paint('cyan', key)}${routePad}  ${
    typeWidth > 0 ? `${paint('bold', type)}${typePad}  ` : ''
  }${paint('magenta', short)}${idPad}${redelivered ? ` ${paint('yellow', '(redelivered)')}` : ''}  ${preview}\n`
  const death = msg.properties.headers?.['x-death']
  if (Array.isArray(death) && death.length > 0) line += deathLines(death, paint)
  return line
}

/** Widest values seen per column (a pretty tail keeps one of these). */
export type Columns = Record<string, number>
const MAX_COLUMN = 48

function grow(cols: Columns, name: string, length: number): number {
  const now = Math.max(cols[name] ?? 0, Math.min(length, MAX_COLUMN))
  cols[name] = now
  return now
}

/** One line of text, cut to width. */
function cutText(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return JSON.stringify(flat.length > width - 2 ? `${flat.slice(0, Math.max(1, width - 3))}…` : flat)
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
    const s = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
    return take(state, s) ? paint('green', s) : '…'
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    const s = String(value)
    return take(state, s) ? paint('yellow', s) : '…'
  }
  if (Array.isArray(value)) {
    if (depth >= 2) {
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
    if (depth >= 2) {
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

/**
 * The whole message: routing, properties and headers as coloured JSON, then the whole body as it is: JSON
 * pretty-printed, text as text, binary as a hex dump with its size. gzip/deflate bodies are shown decoded.
 */
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
  }
  let out = `${coloredJson(doc, paint, '')}\n`
  const inflated = inflateForDisplay(msg.content, msg.properties.contentEncoding)
  const content = inflated ?? msg.content
  const shown = inflated === undefined ? body : decodeBody(inflated)
  const decoded =
    inflated === undefined
      ? ''
      : `, ${String(msg.properties.contentEncoding)} ${formatSize(msg.content.length)} decoded`
  if (shown.json)
    out += `${paint('gray', `body (JSON, ${formatSize(content.length)}${decoded}):`)}\n${coloredJson(shown.value, paint, '')}\n`
  else if (shown.utf8)
    out += `${paint('gray', `body (text, ${formatSize(content.length)}${decoded}):`)}\n${shown.text}${shown.text.endsWith('\n') ? '' : '\n'}`
  else {
    const type = typeof msg.properties.contentType === 'string' ? `, ${msg.properties.contentType}` : ''
    out += `${paint('gray', `body (binary, ${content.length} bytes${type}${decoded}), hex:`)}\n${hexDump(content)}`
  }
  const death = msg.properties.headers?.['x-death']
  if (Array.isArray(death) && death.length > 0) out += deathLines(death, paint)
  return out
}

/** 16 bytes a line: offset, hex, printable ASCII. */
export function hexDump(content: Buffer): string {
  let out = ''
  for (let off = 0; off < content.length; off += 16) {
    const row = content.subarray(off, off + 16)
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ')
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')
    out += `${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}\n`
  }
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
