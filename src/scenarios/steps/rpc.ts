import {randomUUID} from 'node:crypto'
import type {ConsumeMessage} from 'amqplib'
import {UsageError} from '../../errors.js'
import {sleep} from '../../util/time.js'
import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'
import {type DeliveryFacts, facts} from './basic.js'

export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to'

export interface Server {
  queue: string
  /** Requests answered so far (read live by later templates). */
  served: number
}

/**
 * serve: a responder on `queue` (declared non-durable, auto-delete unless it exists) that answers each
 * request on its replyTo with the request's body and correlationId, after `workMs`. strayReplies: that many
 * replies with unknown correlation ids are sent before the first real one (the client must discard them);
 * echoCorrelation: false answers with a fresh id, echoBody: false with an empty body (broken servers). It
 * serves until the scenario ends.
 */
export async function serve(ctx: ScenarioContext, spec: Spec): Promise<Server> {
  const queue = spec.str('queue')
  const echo = spec.bool('echoCorrelation', true)
  const echoBody = spec.bool('echoBody', true)
  let strays = spec.num('strayReplies', 0)
  const workMs = spec.num('workMs', 0)
  const ch = await ctx.channel()
  if (spec.bool('declare', true)) await ch.assertQueue(queue, {durable: false, autoDelete: true})
  const server: Server = {queue, served: 0}
  let chain = Promise.resolve()
  await ch.consume(queue, (msg: ConsumeMessage | null) => {
    if (!msg) return
    chain = chain.then(async () => {
      if (workMs > 0) await sleep(workMs)
      const {replyTo, correlationId} = msg.properties
      try {
        for (; strays > 0; strays--) ch.sendToQueue(replyTo, Buffer.from('{}'), {correlationId: `stray-${strays}`})
        ch.sendToQueue(replyTo, echoBody ? msg.content : Buffer.from('{}'), {
          correlationId: echo ? correlationId : randomUUID(),
          contentType: msg.properties.contentType,
        })
        ch.ack(msg)
        server.served++
      } catch {
        // the scenario ended under us
      }
    })
  })
  return server
}

export interface RequestResult {
  requests: number
  matched: number
  /** Matched replies whose body is the request's. */
  correct: number
  /** Replies with a correlation id no request has (ignored). */
  discarded: number
  unanswered: number
  replyTo: string
  p50Ms: number
  first?: DeliveryFacts
}

/**
 * request: send `count` requests to `queue` (or exchange + routingKey), each with its own correlationId and
 * a replyTo: `direct` (amq.rabbitmq.reply-to), `queue` (an exclusive server-named queue) or a queue name.
 * Waits until every request has its reply or `timeoutMs` passes; replies are matched by correlation id.
 */
export async function request(ctx: ScenarioContext, spec: Spec): Promise<RequestResult> {
  const count = spec.num('count', 1)
  const mode = spec.str('replyTo', 'queue')
  const timeoutMs = spec.num('timeoutMs', 10_000)
  const exchange = spec.str('exchange', '')
  const routingKey = spec.has('routingKey') ? spec.str('routingKey') : spec.str('queue', '')
  if (routingKey === '' && exchange === '') throw new UsageError(`${spec.where}: name the server's queue (queue:)`)
  // Direct reply-to needs the consumer on the channel that publishes, in no-ack mode.
  const ch = await ctx.channel()
  const replyTo =
    mode === 'direct'
      ? DIRECT_REPLY_TO
      : mode === 'queue'
        ? (await ch.assertQueue('', {exclusive: true, autoDelete: true})).queue
        : mode
  const pending = new Map<string, {n: number; body: string; sent: number}>()
  const latencies: number[] = []
  let matched = 0
  let correct = 0
  let discarded = 0
  let first: DeliveryFacts | undefined
  let allDone: () => void = () => {}
  const done = new Promise<void>((r) => (allDone = r))
  const {consumerTag} = await ch.consume(
    replyTo,
    (msg) => {
      if (!msg) return
      const id = String(msg.properties.correlationId)
      const req = pending.get(id)
      if (!req) {
        discarded++
        return
      }
      pending.delete(id)
      matched++
      first ??= facts(msg)
      latencies.push(performance.now() - req.sent)
      if (msg.content.toString('utf8') === req.body) correct++
      if (pending.size === 0) allDone()
    },
    {noAck: true},
  )
  for (let n = 0; n < count; n++) {
    const correlationId = randomUUID()
    const body = JSON.stringify({n})
    pending.set(correlationId, {n, body, sent: performance.now()})
    ch.publish(exchange, routingKey, Buffer.from(body), {replyTo, correlationId, contentType: 'application/json'})
  }
  const timer = setTimeout(allDone, timeoutMs)
  const onAbort = () => allDone()
  ctx.signal?.addEventListener('abort', onAbort, {once: true})
  await done
  clearTimeout(timer)
  ctx.signal?.removeEventListener('abort', onAbort)
  await ch.cancel(consumerTag).catch(() => {})
  await ctx.closeChannel(ch)
  latencies.sort((a, b) => a - b)
  return {
    requests: count,
    matched,
    correct,
    discarded,
    unanswered: pending.size,
    replyTo: mode === 'direct' ? DIRECT_REPLY_TO : mode === 'queue' ? 'exclusive server-named queue' : mode,
    p50Ms: Math.round((latencies[Math.floor(latencies.length / 2)] ?? 0) * 100) / 100,
    first,
  }
}
