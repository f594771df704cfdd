import {randomBytes} from 'node:crypto'
import {connectAmqp} from '../../amqp/connect.js'
import {buildAmqpUrl, parseAmqpUrl} from '../../config/url.js'
import {enc} from '../../management/client.js'
import type {ScenarioContext} from '../context.js'
import type {Spec} from '../spec.js'

/**
 * Topic permissions (seed 000: `set_topic_permissions -p customers parsa customer_events "^customers.*"`):
 * a temporary user with write rights limited by `writePattern` on `exchange` publishes `allowedKey`
 * (confirmed) and `refusedKey` (the channel is closed with ACCESS_REFUSED); with no configure rights
 * (`configurePattern`, default ^$), declaring a queue is refused too. The user is deleted afterwards.
 */
export async function permissionProbe(ctx: ScenarioContext, args: Spec) {
  const exchange = args.str('exchange')
  const writePattern = args.str('writePattern')
  const readPattern = args.str('readPattern', writePattern)
  const configurePattern = args.str('configurePattern', '^$')
  const allowedKey = args.str('allowedKey')
  const refusedKey = args.str('refusedKey')
  const user = `evt-scn-${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  const v = enc(ctx.vhost)
  await ctx.api.put(`/users/${enc(user)}`, {password, tags: ''})
  try {
    await ctx.api.put(`/permissions/${v}/${enc(user)}`, {configure: configurePattern, write: '.*', read: '.*'})
    await ctx.api.put(`/topic-permissions/${v}/${enc(user)}`, {exchange, write: writePattern, read: readPattern})
    const url = buildAmqpUrl({...parseAmqpUrl(ctx.broker.amqpUrl), username: user, password, vhost: ctx.vhost})
    const conn = await connectAmqp(url, {connectionName: 'evt scenario permission probe'})
    conn.on('error', () => {})
    try {
      const attempt = async (what: (ch: import('amqplib').ConfirmChannel) => Promise<unknown>) => {
        const ch = await conn.createConfirmChannel()
        ch.on('error', () => {})
        try {
          await what(ch)
          await ch.waitForConfirms()
          await ch.close()
          return 'allowed'
        } catch (err) {
          const m = /ACCESS_REFUSED - ([^"]+)/.exec(String((err as Error).message))
          return m ? `refused: ${m[1].trim()}` : `failed: ${(err as Error).message}`
        }
      }
      const publish = (key: string) => (ch: import('amqplib').ConfirmChannel) =>
        new Promise<void>((resolve, reject) => {
          ch.publish(exchange, key, Buffer.from('{}'), {}, (err) => (err ? reject(err) : resolve()))
          ch.once('close', () => reject(new Error('channel closed')))
          ch.once('error', reject)
        })
      const allowed = await attempt(publish(allowedKey))
      const refused = await attempt(publish(refusedKey))
      const declare = await attempt((ch) => ch.assertQueue(`${user}-queue`))
      return {user, allowed, refused, declare}
    } finally {
      await conn.close().catch(() => {})
    }
  } finally {
    await ctx.api.delete(`/users/${enc(user)}`).catch(() => {})
  }
}
