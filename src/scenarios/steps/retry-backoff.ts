import type {ConsumeMessage} from 'amqplib'
import {settledWithin} from '../../util/time.js'
import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'

/**
 * Retry with exponential backoff, then dead-letter (seeds 001, 004): a handler that always fails
 * republishes the message to `<queue>.retry` with a per-message TTL of baseDelayMs·2^(attempt-1);
 * the expired message dead-letters back to `queue`. After maxAttempts it is rejected without requeue,
 * which sends it to the queue's dead-letter exchange.
 */
export async function retryBackoff(ctx: ScenarioContext, args: Spec) {
  const queue = args.str('queue')
  const messages = args.num('messages', 3)
  const maxAttempts = args.num('maxAttempts', 4)
  const baseDelayMs = args.num('baseDelayMs', 50)
  const timeoutMs = args.num('timeoutMs', 20_000)
  const retryQueue = `${queue}.retry`
  // A TTL on the retry queue itself (a policy or an argument someone added) caps every message's expiration.
  const retryQueueTtlMs = args.num('retryQueueTtlMs', 0)

  const ch = await ctx.channel()
  await ch.assertQueue(retryQueue, {
    durable: true,
    arguments: {
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': queue,
      ...(retryQueueTtlMs > 0 ? {'x-message-ttl': retryQueueTtlMs} : {}),
    },
  })
  const attempts = new Map<string, number[]>()
  let deadLettered = 0
  let finish: () => void = () => {}
  const finished = new Promise<void>((r) => (finish = r))
  await ch.prefetch(10)
  const {consumerTag} = await ch.consume(queue, (msg: ConsumeMessage | null) => {
    if (!msg) return
    const id = String(msg.properties.messageId)
    const times = attempts.get(id) ?? []
    times.push(performance.now())
    attempts.set(id, times)
    const attempt = times.length
    if (attempt < maxAttempts) {
      ch.sendToQueue(retryQueue, msg.content, {
        messageId: id,
        persistent: true,
        expiration: String(baseDelayMs * 2 ** (attempt - 1)),
        headers: {'x-retry-count': attempt},
      })
      ch.ack(msg)
    } else {
      ch.nack(msg, false, false)
      deadLettered++
      if (deadLettered >= messages) finish()
    }
  })
  for (let i = 0; i < messages; i++) {
    ch.sendToQueue(queue, Buffer.from(JSON.stringify({seq: i})), {messageId: `retry-${i}`, persistent: true})
  }
  await settledWithin(finished, timeoutMs)
  await ch.cancel(consumerTag)
  await ctx.closeChannel(ch)

  const expectedDelaysMs = Array.from({length: maxAttempts - 1}, (_, i) => baseDelayMs * 2 ** i)
  const gaps = [...attempts.values()].map((t) => t.slice(1).map((x, i) => x - t[i]))
  // Each wait must last at least its TTL (a little timer slack allowed) and grow.
  const backoffHonoured = gaps.every(
    (g) => g.length === expectedDelaysMs.length && g.every((ms, i) => ms >= expectedDelaysMs[i] * 0.9),
  )
  return {
    messages,
    maxAttemptsSeen: Math.max(0, ...[...attempts.values()].map((t) => t.length)),
    deadLettered,
    expectedDelaysMs,
    delaysMs: (gaps[0] ?? []).map((ms) => Math.round(ms)),
    backoffHonoured,
  }
}
