#!/usr/bin/env node
// The yardstick for `evt tail` and `evt bench` consumers: a bare amqplib consumer, prefetch 1000, one
// multiple-ack every 100 deliveries, nothing else.
// Usage: node bench/raw-consumer.js --url amqp://u:p@host:port/vhost --queue orders
//          [--count 100000] [--prefetch 1000] [--multi-ack 100] [--print]
// --print writes each body and a newline to stdout (a consumer piping messages on, like `evt tail --json`).
// Prints `{"ready":true}` on stderr once consuming, then one JSON line on stderr when done:
// {count, ms (connect → last message), firstToLastMs, rate (first → last message)}.
import {parseArgs} from 'node:util'
import amqp from 'amqplib'

const {values: o} = parseArgs({
  options: {
    url: {type: 'string'},
    queue: {type: 'string', default: 'orders'},
    count: {type: 'string', default: '100000'},
    prefetch: {type: 'string', default: '1000'},
    'multi-ack': {type: 'string', default: '100'},
    print: {type: 'boolean', default: false},
  },
})
const count = Number(o.count)
const multiAck = Number(o['multi-ack'])
const started = performance.now()
const conn = await amqp.connect(o.url ?? process.env.RABBITMQ_URL, {noDelay: true})
const ch = await conn.createChannel()
await ch.prefetch(Number(o.prefetch))
const NL = Buffer.from('\n')
let received = 0
let unacked = 0
let first = 0
let last = 0
let done
const finished = new Promise((resolve) => {
  done = resolve
})
await ch.consume(o.queue, (msg) => {
  if (msg === null) return
  if (received === 0) first = performance.now()
  received++
  if (o.print) {
    process.stdout.write(msg.content)
    process.stdout.write(NL)
  }
  if (++unacked >= multiAck || received === count) {
    ch.ack(msg, true)
    unacked = 0
  }
  if (received === count) {
    last = performance.now()
    done()
  }
})
process.stderr.write('{"ready":true}\n')
await finished
await conn.close()
const firstToLastMs = last - first
process.stderr.write(
  `${JSON.stringify({
    count,
    ms: Math.round(last - started),
    firstToLastMs: Math.round(firstToLastMs),
    rate: Math.round(((count - 1) * 1000) / Math.max(firstToLastMs, 1)),
  })}\n`,
)
