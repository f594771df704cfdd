#!/usr/bin/env node
// The yardstick for `evt bench`: the same work in one process with bare amqplib — one producer
// connection (confirm window W, noDelay), one consumer connection (prefetch, multiple-ack every N),
// a durable direct exchange and classic queue, and rates measured the way evt bench measures them:
// messages / seconds from the first publish to the last publish, and to the last delivery.
// Usage: node bench/raw-bench.js --url amqp://u:p@host:port/vhost [--count 100000] [--size 600]
//          [--confirm 1000] [--persistent] [--prefetch 1000] [--multi-ack 100]
// Prints one JSON line: {count, publishRate, consumeRate, publishSeconds, consumeSeconds}.
import {parseArgs} from 'node:util'
import amqp from 'amqplib'

const {values: o} = parseArgs({
  options: {
    url: {type: 'string'},
    count: {type: 'string', default: '100000'},
    size: {type: 'string', default: '600'},
    confirm: {type: 'string', default: '0'},
    persistent: {type: 'boolean', default: false},
    prefetch: {type: 'string', default: '1000'},
    'multi-ack': {type: 'string', default: '100'},
  },
})
const count = Number(o.count)
const window = Number(o.confirm)
const multiAck = Number(o['multi-ack'])
const url = o.url ?? process.env.RABBITMQ_URL

const setup = await amqp.connect(url, {noDelay: true})
const sch = await setup.createChannel()
await sch.assertExchange('raw.bench', 'direct', {durable: true})
await sch.assertQueue('raw.bench', {durable: true, arguments: {'x-queue-type': 'classic'}})
await sch.bindQueue('raw.bench', 'raw.bench', 'raw.bench')
await sch.purgeQueue('raw.bench')

const consumerConn = await amqp.connect(url, {noDelay: true})
const cch = await consumerConn.createChannel()
await cch.prefetch(Number(o.prefetch))
const producerConn = await amqp.connect(url, {noDelay: true})
const pch = window > 0 ? await producerConn.createConfirmChannel() : await producerConn.createChannel()

let consumed = 0
let unacked = 0
let lastConsumeAt = 0
let allConsumed
const consumedPromise = new Promise((resolve) => {
  allConsumed = resolve
})
await cch.consume('raw.bench', (msg) => {
  consumed++
  lastConsumeAt = performance.now()
  if (++unacked >= multiAck || consumed === count) {
    cch.ack(msg, true)
    unacked = 0
  }
  if (consumed === count) allConsumed()
})

const body = Buffer.alloc(Number(o.size), 120)
const options = {persistent: o.persistent}
const start = performance.now()
let inflight = 0
let wake
for (let i = 0; i < count; i++) {
  body.writeDoubleBE(performance.now(), 0)
  let ok
  if (window > 0) {
    if (inflight >= window) await new Promise((r) => (wake = r))
    inflight++
    ok = pch.publish('raw.bench', 'raw.bench', body, options, () => {
      inflight--
      if (wake && inflight < window) {
        const w = wake
        wake = undefined
        w()
      }
    })
  } else ok = pch.publish('raw.bench', 'raw.bench', body, options)
  if (!ok) await new Promise((r) => pch.once('drain', r))
}
const lastPublishAt = performance.now()
if (window > 0) await pch.waitForConfirms()
await consumedPromise

const publishSeconds = (lastPublishAt - start) / 1000
const consumeSeconds = (lastConsumeAt - start) / 1000
console.log(
  JSON.stringify({
    count,
    publishRate: Math.round(count / publishSeconds),
    consumeRate: Math.round(count / consumeSeconds),
    publishSeconds,
    consumeSeconds,
  }),
)
await sch.deleteQueue('raw.bench')
await sch.deleteExchange('raw.bench')
await Promise.all([setup.close(), consumerConn.close(), producerConn.close()])
