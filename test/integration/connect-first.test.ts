import {describe, expect, it} from 'vitest'
import {connectFirst} from '../../src/amqp/connect.js'
import {freePort} from '../../src/broker/probe.js'
import {sharedBroker} from '../helpers/broker.js'

/** The shared broker's URL with other credentials. */
function withPassword(url: string, password: string): string {
  const u = new URL(url)
  u.password = password
  return u.toString()
}

describe('connectFirst: a cluster client takes the first node that answers', () => {
  it('skips a node where nothing listens and connects to the next', async () => {
    const down = `amqp://guest:guest@127.0.0.1:${await freePort()}`
    const conn = await connectFirst([down, sharedBroker().amqpUrl], {connectionName: 'evt test connectFirst'})
    try {
      // It is the broker behind the second URL: a queue declared through it is there.
      const ch = await conn.createChannel()
      const {queue} = await ch.assertQueue('', {exclusive: true})
      expect((await ch.checkQueue(queue)).queue).toBe(queue)
      expect(conn.connection.serverProperties.product).toBe('RabbitMQ')
    } finally {
      await conn.close()
    }
  })

  it('stops at access refused: every node has the same users, so trying the others would only hide it', async () => {
    const refused = withPassword(sharedBroker().amqpUrl, 'not-the-password')
    await expect(connectFirst([refused, sharedBroker().amqpUrl])).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/^access refused for user/),
    })
  })

  it('when no node answers, the error names the first', async () => {
    const [a, b] = [await freePort(), await freePort()]
    await expect(connectFirst([`amqp://u:p@127.0.0.1:${a}`, `amqp://u:p@127.0.0.1:${b}`])).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringContaining(`nothing is listening at amqp://u:****@127.0.0.1:${a}`),
    })
  })
})
