import type {ConfirmChannel} from 'amqplib'
import {sleep} from '../../util/time.js'
import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'
import {queueState} from './basic.js'

/**
 * Crash safety of publisher confirms: publish persistent messages with a confirm window and SIGKILL the
 * broker once `killAfter` of `messages` are confirmed. Publishing does not stop at `messages`: it goes on
 * until the connection dies, so the kill always lands mid-publish (midPublish says whether some publishes
 * were left unconfirmed; if not, the check that depends on it is skipped with the reason, never failed).
 * After the restart, read the queue and match ids: every confirmed message must be there (confirmedLost =
 * 0); messages never confirmed may or may not be (unconfirmedPresent); none may be there twice.
 */
export async function publishThroughKill(ctx: ScenarioContext, args: Spec) {
  const queue = args.str('queue')
  const messages = args.num('messages', 5000)
  const window = args.num('window', 500)
  const killAfter = Math.max(1, Math.floor(messages * args.num('killAfter', 0.5)))
  const persistent = args.bool('persistent', true)
  // idModulo N > 0 reuses ids (k0..kN-1): a publisher that resends under the same ids (a negative case).
  const idModulo = args.num('idModulo', 0)

  const ch: ConfirmChannel = await ctx.confirmChannel()
  let closed = false
  /** Publishes still awaiting their confirm when the channel died (amqplib fails them with "channel closed"). */
  let inFlightAtClose = 0
  const confirmed = new Set<string>()
  let nacked = 0
  /** Confirms received (ids may repeat with idModulo, so not confirmed.size). */
  let confirmations = 0
  let attempted = 0
  let outstanding = 0
  let wake: (() => void) | undefined
  ch.on('close', () => {
    closed = true
    wake?.()
  })
  let killing: Promise<{seconds: number}> | undefined
  const kill = () => {
    killing ??= ctx.restartBroker('kill', {keepConnection: true})
  }
  const waitAWhile = () => Promise.race([new Promise<void>((r) => (wake = r)), sleep(100)])
  let i = 0
  let sinceYield = 0
  while (!closed) {
    if (i >= messages && !killing) {
      // All sent, fewer than killAfter confirmed so far: wait for confirms (the kill starts from one); with
      // every answer in and still too few (nacks), kill now rather than wait for ever.
      if (outstanding === 0) kill()
      await waitAWhile()
      continue
    }
    const id = `k${idModulo > 0 ? i % idModulo : i}`
    i++
    try {
      outstanding++
      attempted++
      ch.publish('', queue, Buffer.from(JSON.stringify({seq: i})), {messageId: id, persistent}, (err) => {
        outstanding--
        if (err && /channel closed/.test(err.message)) inFlightAtClose++
        else if (err) nacked++
        else {
          confirmed.add(id)
          confirmations++
        }
        if (confirmations >= killAfter) kill()
        wake?.()
      })
    } catch {
      break // the channel is gone: the broker died under us
    }
    while (outstanding >= window && !closed) await waitAWhile()
    // Let confirms and the close arrive while the window is not full.
    if (++sinceYield >= 50) {
      sinceYield = 0
      await new Promise((r) => setImmediate(r))
    }
  }
  kill()
  const killSeconds = (await killing)?.seconds

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
    /** Some publishes were in flight (unconfirmed) when the connection died: the kill landed mid-publish. */
    midPublish: inFlightAtClose > 0,
    inFlightAtClose,
  }
}
