#!/usr/bin/env node
// The yardstick for `evt publish`: a bare amqplib publisher with a confirm window, nothing else.
// Usage: node bench/raw-publisher.js --url amqp://u:p@host:port/vhost --exchange orders --routing-key order.created
//          [--count 100000] [--window 1000] [--size 600 | --body-file f.json] [--transient] [--no-confirm]
// Prints one JSON line: {count, ms, rate, confirmed, returned, nacked}.
import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {parseArgs} from 'node:util'
import amqp from 'amqplib'

const {values: o} = parseArgs({
  options: {
    url: {type: 'string'},
    exchange: {type: 'string', default: 'orders'},
    'routing-key': {type: 'string', default: 'order.created'},
    count: {type: 'string', default: '100000'},
    window: {type: 'string', default: '1000'},
    size: {type: 'string', default: '600'},
    'body-file': {type: 'string'},
    transient: {type: 'boolean', default: false},
    'no-confirm': {type: 'boolean', default: false},
  },
})
const count = Number(o.count)
const window = Number(o.window)
const confirm = !o['no-confirm']
const body = o['body-file']
  ? readFileSync(o['body-file'])
  : Buffer.from(`{"data":"${'x'.repeat(Number(o.size) - 11)}"}`)
const started = performance.now()
const conn = await amqp.connect(o.url ?? process.env.RABBITMQ_URL, {noDelay: true})
const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel()
let returned = 0
ch.on('return', () => returned++)
let inflight = 0
let confirmed = 0
let nacked = 0
let wake
// The same AMQP properties evt sets, so both publishers put the same bytes on the wire.
const options = {
  persistent: !o.transient,
  mandatory: true,
  contentType: 'application/json',
  type: o['routing-key'],
  appId: 'raw-publisher',
  timestamp: Math.floor(Date.now() / 1000),
  correlationId: 'req_000000000000',
}
for (let i = 0; i < count; i++) {
  if (confirm && inflight >= window) await new Promise((r) => (wake = r))
  let ok
  if (confirm) {
    inflight++
    ok = ch.publish(o.exchange, o['routing-key'], body, {...options, messageId: `evt_${randomUUID()}`}, (err) => {
      inflight--
      if (err) nacked++
      else confirmed++
      if (wake && inflight < window) {
        const w = wake
        wake = undefined
        w()
      }
    })
  } else ok = ch.publish(o.exchange, o['routing-key'], body, {...options, messageId: `evt_${randomUUID()}`})
  if (!ok) await new Promise((r) => ch.once('drain', r))
}
if (confirm) await ch.waitForConfirms()
else await ch.checkExchange(o.exchange)
const ms = performance.now() - started
await conn.close()
console.log(
  JSON.stringify({count, ms: Math.round(ms), rate: Math.round((count * 1000) / ms), confirmed, returned, nacked}),
)
