import {randomUUID} from 'node:crypto'
import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to'

/**
 * Request/reply (seed 000): a server answers each request on its `replyTo` with the request's
 * correlationId; the client matches replies to requests and discards any it did not ask for.
 * mode: queue (an exclusive server-named reply queue) or direct (amq.rabbitmq.reply-to).
 * strayReplies: replies with unknown correlation ids the server sends first. echoCorrelation: false breaks
 * the server (it answers with a fresh id), to show the checks fail.
 */
export async function rpcRoundtrip(ctx: ScenarioContext, args: Spec) {
  const requests = args.num('requests', 50)
  const mode = args.str('mode', 'queue')
  const strays = args.num('strayReplies', 1)
  const echo = args.bool('echoCorrelation', true)
  const timeoutMs = args.num('timeoutMs', 10_000)
  const serverQueue = args.str('queue', 'rpc.requests')

  const server = await ctx.channel()
  await server.assertQueue(serverQueue, {durable: false, autoDelete: true})
  let straysLeft = strays
  await server.consume(serverQueue, (msg) => {
    if (!msg) return
    const {replyTo, correlationId} = msg.properties
    for (; straysLeft > 0; straysLeft--) {
      server.sendToQueue(replyTo, Buffer.from('{}'), {correlationId: `stray-${straysLeft}`})
    }
    const request = JSON.parse(msg.content.toString()) as {n: number}
    server.sendToQueue(replyTo, Buffer.from(JSON.stringify({n: request.n, doubled: request.n * 2})), {
      correlationId: echo ? correlationId : randomUUID(),
    })
    server.ack(msg)
  })

  // Direct reply-to needs the consumer on the same channel that publishes, in no-ack mode.
  const client = await ctx.channel()
  const replyQueue =
    mode === 'direct' ? DIRECT_REPLY_TO : (await client.assertQueue('', {exclusive: true, autoDelete: true})).queue
  const pending = new Map<string, {n: number; sent: number}>()
  const latencies: number[] = []
  let matched = 0
  let correct = 0
  let discarded = 0
  let allDone: () => void = () => {}
  const done = new Promise<void>((r) => (allDone = r))
  await client.consume(
    replyQueue,
    (msg) => {
      if (!msg) return
      const request = pending.get(String(msg.properties.correlationId))
      if (!request) {
        discarded++
        return
      }
      pending.delete(String(msg.properties.correlationId))
      matched++
      latencies.push(performance.now() - request.sent)
      const reply = JSON.parse(msg.content.toString()) as {n: number; doubled: number}
      if (reply.n === request.n && reply.doubled === request.n * 2) correct++
      if (pending.size === 0) allDone()
    },
    {noAck: true},
  )
  for (let n = 0; n < requests; n++) {
    const correlationId = randomUUID()
    pending.set(correlationId, {n, sent: performance.now()})
    client.sendToQueue(serverQueue, Buffer.from(JSON.stringify({n})), {replyTo: replyQueue, correlationId})
  }
  const timer = setTimeout(allDone, timeoutMs)
  await done
  clearTimeout(timer)
  // Late strays still count as discarded.
  await new Promise((r) => setTimeout(r, 50))
  await ctx.closeChannel(client)
  await ctx.closeChannel(server)
  latencies.sort((a, b) => a - b)
  return {
    requests,
    matched,
    correct,
    discarded,
    unanswered: pending.size,
    replyTo: mode === 'direct' ? DIRECT_REPLY_TO : 'exclusive server-named queue',
    p50Ms: Math.round((latencies[Math.floor(latencies.length / 2)] ?? 0) * 100) / 100,
  }
}
