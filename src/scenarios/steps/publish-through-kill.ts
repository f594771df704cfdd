import type {ConfirmChannel} from 'amqplib'
import type {ScenarioContext} from '../context.js'
import {sleep} from '../context.js'
import type {Spec} from '../spec.js'
import {queueState} from './basic.js'

/**
 * Crash safety of publisher confirms: publish persistent messages with a confirm window and SIGKILL the
 * broker once `killAfter` of them are confirmed, while publishing goes on. After the restart, read the
 * queue and match ids: every confirmed message must be there (confirmedLost = 0); messages that were
 * never confirmed may or may not be (unconfirmedPresent); none may be there twice (duplicates).
 */
export async function publishThroughKill(ctx: ScenarioContext, args: Spec) {
  const queue = args.str('queue')
  const messages = args.num('messages', 5000)
  const window = args.num('window', 500)
  const killAfter = Math.floor(messages * args.num('killAfter', 0.5))
  const persistent = args.bool('persistent', true)

  const ch: ConfirmChannel = await ctx.confirmChannel()
  let closed = false
  ch.on('close', () => {
    closed = true
  })
  const confirmed = new Set<string>()
  let nacked = 0
  let attempted = 0
  let outstanding = 0
  let wake: (() => void) | undefined
  let killing: Promise<number> | undefined
  for (let i = 0; i < messages && !closed; i++) {
    const id = `k${i}`
    try {
      outstanding++
      attempted++
      ch.publish('', queue, Buffer.from(JSON.stringify({seq: i})), {messageId: id, persistent}, (err) => {
        outstanding--
        if (err) nacked++
        else confirmed.add(id)
        if (!killing && confirmed.size >= killAfter) killing = ctx.restartBroker('kill', {keepConnection: true})
        wake?.()
      })
    } catch {
      break // the channel is gone: the broker died under us
    }
    while (outstanding >= window && !closed) await Promise.race([new Promise<void>((r) => (wake = r)), sleep(100)])
  }
  if (!killing) {
    await Promise.race([ch.waitForConfirms().catch(() => {}), sleep(5000)])
    killing = ctx.restartBroker('kill', {keepConnection: true})
  }
  const killSeconds = await killing

  const state = await queueState(ctx, queue)
  const seen = new Map<string, number>()
  if (state.exists && state.messages > 0) {
    const reader = await ctx.channel()
    await reader.prefetch(1000)
    await new Promise<void>((resolve) => {
      let got = 0
      const timer = setTimeout(resolve, 20_000)
      reader.consume(queue, (msg) => {
        if (!msg) return
        const id = String(msg.properties.messageId)
        seen.set(id, (seen.get(id) ?? 0) + 1)
        reader.ack(msg)
        if (++got >= state.messages) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    await ctx.closeChannel(reader)
  }
  const confirmedLost = [...confirmed].filter((id) => !seen.has(id))
  return {
    attempted,
    confirmed: confirmed.size,
    nacked,
    unconfirmed: attempted - confirmed.size,
    queueExists: state.exists,
    present: seen.size,
    confirmedLost: confirmedLost.length,
    confirmedLostSample: confirmedLost.slice(0, 5),
    unconfirmedPresent: [...seen.keys()].filter((id) => !confirmed.has(id)).length,
    duplicates: [...seen.values()].reduce((n, c) => n + c - 1, 0),
    killSeconds,
  }
}
