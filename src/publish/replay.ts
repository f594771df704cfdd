import {readFile} from 'node:fs/promises'
import type {ChannelModel, ConfirmChannel, ConsumeMessage, Options} from 'amqplib'
import {connectFirst} from '../amqp/connect.js'
import {AMQP_PROPERTY_KEYS} from '../amqp/properties.js'
import {maskUrl, parseAmqpUrl, withVhost} from '../config/url.js'
import {EvtError, ExitCode, UnreachableError, UsageError} from '../errors.js'
import {retryWithBackoff} from '../util/backoff.js'
import {sleep} from '../util/time.js'
import {type PublishProgress, type PublishSummary, summaryTotals, type TypePublishSummary} from './publisher.js'

/**
 * `evt publish --from FILE.ndjson`: publish again what `evt tail --save` (or `--json`) recorded, with the same
 * properties and headers, and the same confirm accounting as every publish: a confirm window, returns (mandatory)
 * and nacks counted per message, reconnect with backoff and republish of whatever was not confirmed.
 */

export interface RecordedMessage {
  vhost: string
  exchange: string
  routingKey: string
  receivedAtMs: number
  properties: Options.Publish
  body: Buffer
}

export interface ReplayOptions {
  url: string
  /** A cluster's other nodes: where a lost connection is taken up again when its node does not answer. */
  otherNodeUrls?: string[]
  file: string
  /** Publish into this vhost instead of each record's own. */
  vhost?: string
  exchange?: string
  routingKey?: string
  /** 1: the recording's own pacing; 2: twice as fast; undefined: as fast as confirms allow. */
  speed?: number
  confirm?: boolean
  mandatory?: boolean
  confirmWindow?: number
  reconnectTimeoutMs?: number
  onProgress?: (p: PublishProgress) => void
  onNotice?: (message: string) => void
  signal?: AbortSignal
}

/** One recorded line back to the message: bytes exactly as recorded where the recording allows it. */
export function parseRecord(line: string, where: string): RecordedMessage {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(line) as Record<string, unknown>
  } catch (err) {
    throw new UsageError(`${where} is not JSON: ${(err as Error).message}`, 'Record with `evt tail --save FILE.ndjson`')
  }
  if (typeof rec.exchange !== 'string' || typeof rec.routingKey !== 'string' || !('body' in rec)) {
    throw new UsageError(`${where} is not a recorded message (exchange, routingKey and body are needed)`)
  }
  let body: Buffer
  switch (rec.bodyEncoding) {
    case 'base64':
      body = Buffer.from(String(rec.body), 'base64')
      break
    case 'utf8':
      body = Buffer.from(String(rec.body), 'utf8')
      break
    case 'json': {
      // The body's own text was copied into the line: take those bytes back, not a re-serialisation.
      const marker = '"bodyEncoding":"json","body":'
      const at = line.indexOf(marker)
      const raw = at >= 0 ? line.slice(at + marker.length, line.lastIndexOf('}')) : ''
      // One occurrence of the marker is ours (the head is written by evt); more (a header or body holding the same
      // text) are checked by parsing.
      const ours = at >= 0 && (line.indexOf(marker, at + 1) === -1 || sameJson(raw, rec.body))
      body = Buffer.from(ours ? raw : JSON.stringify(rec.body))
      break
    }
    default:
      throw new UsageError(`${where}: unknown bodyEncoding ${JSON.stringify(rec.bodyEncoding)}`)
  }
  const props = (rec.properties ?? {}) as Record<string, unknown>
  const properties: Options.Publish = {}
  for (const k of AMQP_PROPERTY_KEYS) if (props[k] !== undefined) Object.assign(properties, {[k]: props[k]})
  const headers = rec.headers as Record<string, unknown> | undefined
  if (headers && Object.keys(headers).length > 0) properties.headers = headers
  const at = typeof rec.receivedAt === 'string' ? Date.parse(rec.receivedAt) : Number.NaN
  return {
    vhost: typeof rec.vhost === 'string' ? rec.vhost : '/',
    exchange: rec.exchange,
    routingKey: rec.routingKey,
    receivedAtMs: Number.isFinite(at) ? at : 0,
    properties,
    body,
  }
}

function sameJson(raw: string, value: unknown): boolean {
  if (raw === '') return false
  try {
    return JSON.stringify(JSON.parse(raw)) === JSON.stringify(value)
  } catch {
    return false
  }
}

export async function readRecording(file: string): Promise<RecordedMessage[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read --from file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
  const out: RecordedMessage[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue
    out.push(parseRecord(lines[i], `${file} line ${i + 1}`))
  }
  if (out.length === 0) throw new UsageError(`${file} holds no recorded message`)
  return out
}

interface Row {
  vhost: string
  exchange: string
  routingKey: string
  published: number
  confirmed: number
  returned: number
  nacked: number
  firstAt: number
  lastAt: number
}

interface Pending {
  row: Row
  m: RecordedMessage
  returned: boolean
  gen: number
}

export async function replayRecording(options: ReplayOptions): Promise<PublishSummary> {
  const records = await readRecording(options.file)
  const confirm = options.confirm ?? true
  const mandatory = options.mandatory ?? true
  const window = options.confirmWindow ?? 1000
  const rows = new Map<string, Row>()
  const started = performance.now()
  let sent = 0
  let republished = 0
  let reconnects = 0
  let conn: ChannelModel | undefined
  let ch: ConfirmChannel | undefined
  let gen = 0
  let broken = false
  let fatal: Error | undefined
  let wake: (() => void) | undefined
  const inflight: Pending[] = []
  const wakeUp = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const settledCount = () => {
    let n = 0
    for (const r of rows.values()) n += r.confirmed + r.returned + r.nacked
    return n
  }
  const timer = options.onProgress
    ? setInterval(() => options.onProgress?.({total: records.length, published: sent, settled: settledCount()}), 200)
    : undefined
  options.signal?.addEventListener('abort', wakeUp, {once: true})

  const open = async (url: string) => {
    const vhost = parseAmqpUrl(url).vhost ?? '/'
    const others = (options.otherNodeUrls ?? []).map((u) => withVhost(u, vhost))
    const c = await connectFirst([url, ...others], {connectionName: 'evt publish --from'})
    const g = ++gen
    c.on('error', () => undefined)
    c.on('close', () => {
      if (g === gen && conn === c) {
        broken = true
        wakeUp()
      }
    })
    const channel = await c.createConfirmChannel()
    channel.on('error', (err: Error) => {
      if (g === gen) fatal = err
      wakeUp()
    })
    channel.on('return', (msg: ConsumeMessage) => {
      // A return comes before the confirm of the same message, in publish order.
      const p = inflight.find(
        (x) => !x.returned && x.m.routingKey === msg.fields.routingKey && x.row.exchange === msg.fields.exchange,
      )
      if (p) p.returned = true
    })
    conn = c
    ch = channel
    broken = false
  }
  const send = (p: Pending): boolean => {
    const channel = ch as ConfirmChannel
    p.gen = gen
    p.returned = false
    const g = gen
    inflight.push(p)
    try {
      return channel.publish(
        p.row.exchange,
        p.m.routingKey,
        p.m.body,
        {...p.m.properties, mandatory},
        confirm
          ? (err) => {
              if (g !== p.gen) return
              const i = inflight.indexOf(p)
              if (i < 0) return
              if (err && err.message !== 'message nacked') return // channel gone: resent after reconnecting
              inflight.splice(i, 1)
              if (err) p.row.nacked++
              else if (p.returned) p.row.returned++
              else p.row.confirmed++
              p.row.lastAt = performance.now()
              wakeUp()
            }
          : undefined,
      )
    } catch {
      broken = true
      return true
    }
  }
  const recover = async (url: string) => {
    if (options.signal?.aborted) return
    const again = inflight.splice(0)
    const timeout = options.reconnectTimeoutMs ?? 30_000
    options.onNotice?.(`connection to ${maskUrl(url)} lost; reconnecting (up to ${timeout / 1000} s)`)
    const outcome = await retryWithBackoff(() => open(url), {
      initialMs: 500,
      maxMs: 8000,
      giveUpAfterMs: timeout,
      signal: options.signal,
    })
    // Interrupted while the broker is away: what is in flight is reported as not confirmed.
    if (outcome.aborted) return
    if (!outcome.ok) {
      throw new EvtError(`lost the broker at ${maskUrl(url)} and could not reconnect within ${timeout / 1000} s`, {
        exitCode: ExitCode.unreachable,
        hint: 'Check the broker (`evt status`), or allow longer with --reconnect-timeout',
      })
    }
    reconnects++
    if (again.length > 0)
      options.onNotice?.(`reconnected; republishing ${again.length} unconfirmed message(s) (possible duplicates)`)
    republished += again.length
    for (const p of again) send(p)
  }
  const waitFor = () =>
    new Promise<void>((resolve) => {
      wake = resolve
    })
  const fatalError = (vhost: string) => {
    const msg = String(fatal?.message ?? fatal)
    const m = /no exchange '([^']+)'/.exec(msg)
    return new UnreachableError(
      m
        ? `the broker refused the replay: exchange "${m[1]}" does not exist in vhost "${vhost}"`
        : `the broker refused the replay in vhost "${vhost}": ${msg}`,
      m ? 'Provision the topology first, or choose another with --exchange / --vhost' : undefined,
      fatal,
    )
  }

  const firstAt = records[0].receivedAtMs
  try {
    let i = 0
    while (i < records.length && !options.signal?.aborted) {
      const vhost = options.vhost ?? records[i].vhost
      const url = withVhost(options.url, vhost)
      await open(url)
      for (; i < records.length && (options.vhost ?? records[i].vhost) === vhost; ) {
        if (options.signal?.aborted) break
        if (fatal) throw fatalError(vhost)
        if (broken) {
          await recover(url)
          continue
        }
        if (confirm && inflight.length >= window) {
          await waitFor()
          continue
        }
        const m = records[i]
        if (options.speed !== undefined) {
          const ahead = started + (m.receivedAtMs - firstAt) / options.speed - performance.now()
          if (ahead > 1) await sleep(ahead, options.signal).catch(() => undefined)
        }
        const exchange = options.exchange ?? m.exchange
        const routingKey = options.routingKey ?? m.routingKey
        const key = `${vhost}\u0000${exchange}\u0000${routingKey}`
        let row = rows.get(key)
        if (!row) {
          row = {vhost, exchange, routingKey, published: 0, confirmed: 0, returned: 0, nacked: 0, firstAt: 0, lastAt: 0}
          rows.set(key, row)
        }
        if (row.published === 0) row.firstAt = performance.now()
        row.published++
        sent++
        i++
        const p: Pending = {row, m: {...m, routingKey}, returned: false, gen}
        if (!send(p) && !broken) {
          const channel = ch as ConfirmChannel
          await new Promise<void>((resolve) => {
            const done = () => {
              channel.off('drain', done)
              channel.off('close', done)
              resolve()
            }
            channel.on('drain', done)
            channel.on('close', done)
          })
        }
        if (!confirm) inflight.length = 0
      }
      // Every confirm of this vhost before the next.
      for (;;) {
        if (fatal) throw fatalError(vhost)
        if (broken) {
          if (options.signal?.aborted) break
          await recover(url)
          continue
        }
        if (!confirm || inflight.length === 0) break
        await waitFor()
      }
      if (!confirm) for (const r of rows.values()) r.lastAt = performance.now()
      const c = conn
      conn = undefined
      await c?.close().catch(() => undefined)
    }
  } finally {
    if (timer) clearInterval(timer)
    const c = conn
    conn = undefined
    await c?.close().catch(() => undefined)
  }
  options.onProgress?.({total: records.length, published: sent, settled: settledCount()})
  // "persistent" in the summary: whether every recorded message was (delivery mode 2); each keeps its own mode.
  const persistent = records.every((r) => r.properties.deliveryMode === 2 || r.properties.persistent === true)
  return summarise([...rows.values()], {
    started,
    confirm,
    mandatory,
    persistent,
    republished,
    reconnects,
    signal: options.signal,
  })
}

function summarise(
  rows: Row[],
  o: {
    started: number
    confirm: boolean
    mandatory: boolean
    persistent: boolean
    republished: number
    reconnects: number
    signal?: AbortSignal
  },
): PublishSummary {
  const end = performance.now()
  const types: TypePublishSummary[] = rows.map((r) => {
    const seconds = ((r.lastAt || end) - r.firstAt) / 1000
    return {
      type: `${r.exchange === '' ? '(default)' : r.exchange} → ${r.routingKey}`,
      name: r.routingKey,
      vhost: r.vhost,
      exchange: r.exchange,
      published: r.published,
      confirmed: r.confirmed,
      returned: r.returned,
      nacked: r.nacked,
      unconfirmed: Math.max(0, r.published - r.confirmed - r.returned - r.nacked),
      rate: seconds > 0 ? Math.round(r.published / seconds) : r.published,
    }
  })
  const durationMs = Math.round(end - o.started)
  const totals = summaryTotals(types, durationMs)
  const interrupted = Boolean(o.signal?.aborted)
  return {
    types,
    totals,
    republished: o.republished,
    reconnects: o.reconnects,
    durationMs,
    confirm: o.confirm,
    persistent: o.persistent,
    mandatory: o.mandatory,
    interrupted,
    ok: !interrupted && totals.returned === 0 && totals.nacked === 0 && (!o.confirm || totals.unconfirmed === 0),
  }
}
