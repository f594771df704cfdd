import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {LedgerLoad} from '../../src/faults/load.js'
import {waitFor} from '../../src/util/time.js'
import {connectAmqp, createTestVhost, type TestVhost} from '../helpers/broker.js'

let tv: TestVhost

beforeAll(async () => {
  tv = await createTestVhost('ledger')
})

afterAll(async () => {
  await tv?.cleanup()
})

/** Put messages in the queue behind the ledger's back. */
async function publishStrays(queue: string, count: number): Promise<void> {
  const conn = await connectAmqp(tv.amqpUrl)
  try {
    const ch = await conn.createConfirmChannel()
    for (let i = 0; i < count; i++) ch.sendToQueue(queue, Buffer.from('{}'), {messageId: `stray-${i}`})
    await ch.waitForConfirms()
  } finally {
    await conn.close()
  }
}

describe('LedgerLoad: confirmed publishing and consuming of one queue, checked as a total queue', () => {
  it('accounts for every message: nothing lost, and messages nobody published are caught as unexpected', async () => {
    const queue = 'ledger-strays'
    const conn = await connectAmqp(tv.amqpUrl)
    const ch = await conn.createChannel()
    await ch.assertQueue(queue, {durable: true})
    await conn.close()

    const load = new LedgerLoad({urls: [tv.amqpUrl], queue, rate: 500})
    await load.start()
    // On a busy runner the first publish can come well after start(): stop only once the load has really run.
    expect(await waitFor(() => load.ledger.confirmedCount >= 20, {timeoutMs: 20_000})).toBe(true)
    // Strays land while the load runs; the drain must not end before they reach the ledger.
    await publishStrays(queue, 3)
    const result = await load.stop({drainMs: 20_000})
    expect(result.published).toBeGreaterThan(0)
    expect(result.lost).toBe(0)
    expect(result.unexpected).toBe(3)
    expect(result.unexpectedSample.sort()).toEqual(['stray-0', 'stray-1', 'stray-2'])
    expect(result.drained).toBe(true)
  })
})
