import type {ChildProcess} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Channel, ChannelModel} from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {waitFor} from '../../src/util/time.js'
import {connectAmqp, createTestVhost, type TestVhost} from '../helpers/broker.js'
import {runCli, spawnCli} from '../helpers/cli.js'

let tv: TestVhost
let home: string
let conn: ChannelModel
let ch: Channel
let env: NodeJS.ProcessEnv

function envelope(i: number, type = 'order.created', data: Record<string, unknown> = {}) {
  return {
    id: `evt_${String(i).padStart(6, '0')}`,
    type,
    source: 'test',
    timestamp: new Date().toISOString(),
    tenant_id: 't1',
    correlation_id: `c${i}`,
    data: {order_id: `order_${i}`, total: i * 10, ...data},
    metadata: {},
  }
}

async function publish(exchange: string, key: string, body: unknown, options: Record<string, unknown> = {}) {
  const content = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body))
  ch.publish(exchange, key, content, {contentType: 'application/json', ...options})
}

interface Running {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exit: Promise<number | null>
}

/** Start `evt tail` and wait until its taps are declared (the header line on stderr). */
/** Start `evt tail` and wait until it says it taps each of its `targets` (default 1) targets. */
async function startTail(args: string[], options: {readStdout?: boolean; targets?: number} = {}): Promise<Running> {
  const child = spawnCli(['tail', ...args], {env})
  let out = ''
  let err = ''
  if (options.readStdout !== false) child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (err += d))
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const deadline = Date.now() + 15_000
  while ((err.match(/tapping|consuming|browsing/g) ?? []).length < (options.targets ?? 1)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tail did not start: ${err}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return {child, stdout: () => out, stderr: () => err, exit}
}

function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

async function depth(queue: string): Promise<number> {
  return (await ch.checkQueue(queue)).messageCount
}

beforeAll(async () => {
  tv = await createTestVhost('tail')
  home = await mkdtemp(join(tmpdir(), 'evt-tail-'))
  env = {RABBITMQ_URL: tv.amqpUrl, RABBITMQ_MANAGEMENT_URL: tv.managementUrl, EVT_HOME: home}
  conn = await connectAmqp(tv.amqpUrl)
  ch = await conn.createChannel()
  await ch.assertExchange('orders', 'topic', {durable: true})
  await ch.assertExchange('fan', 'fanout', {durable: true})
  await ch.assertExchange('hdr', 'headers', {durable: true})
  await ch.assertExchange('dlx', 'fanout', {durable: true})
  await ch.assertQueue('order-service', {durable: true})
  await ch.bindQueue('order-service', 'orders', 'order.*')
  await ch.assertQueue('orders.dlq', {durable: true})
  await ch.bindQueue('orders.dlq', 'dlx', '')
  await ch.assertQueue('work', {durable: true, arguments: {'x-dead-letter-exchange': 'dlx'}})
  await ch.bindQueue('work', 'orders', 'order.failed')
  // Each --consume test owns its queue: none depends on what another left behind.
  for (const q of ['drain-sigint', 'drain-count', 'drain-pipe']) await ch.assertQueue(q, {durable: true})
  await ch.assertQueue('direct-only', {durable: true})
  // an exchange and a queue with the same name: ambiguous
  await ch.assertExchange('twin', 'topic', {durable: true})
  await ch.assertQueue('twin', {durable: true})
})

afterAll(async () => {
  await conn?.close().catch(() => undefined)
  await tv?.cleanup()
  if (home) await rm(home, {recursive: true, force: true})
})

describe('evt tail against a real broker', () => {
  it('prints each message once, in order, as NDJSON, with a summary on stderr', async () => {
    const tail = await startTail(['orders', '--json', '--count', '30', '--timeout', '20'])
    for (let i = 0; i < 30; i++) await publish('orders', i % 2 ? 'order.created' : 'order.paid', envelope(i))
    expect(await tail.exit).toBe(0)
    const lines = ndjson(tail.stdout())
    expect(lines).toHaveLength(30)
    expect(lines.map((l) => (l.body as {id: string}).id)).toEqual(
      Array.from({length: 30}, (_, i) => `evt_${String(i).padStart(6, '0')}`),
    )
    expect(lines.map((l) => l.seq)).toEqual(Array.from({length: 30}, (_, i) => i + 1))
    expect(Object.keys(lines[0])).toEqual([
      'seq',
      'receivedAt',
      'vhost',
      'exchange',
      'routingKey',
      'redelivered',
      'tap',
      'properties',
      'headers',
      'size',
      'bodyEncoding',
      'body',
    ])
    expect(lines[0]).toMatchObject({
      vhost: tv.vhost,
      exchange: 'orders',
      routingKey: 'order.paid',
      bodyEncoding: 'json',
    })
    const summaryLine = tail
      .stderr()
      .split('\n')
      .find((l) => l.startsWith('{"summary"'))
    const {summary} = JSON.parse(summaryLine ?? '{}')
    expect(summary).toMatchObject({reason: 'count', messages: 30, countMet: true})
    expect(summary.byRoutingKey).toEqual({'order.created': 15, 'order.paid': 15})
  })

  it('taps a queue without taking its messages', async () => {
    await ch.purgeQueue('order-service')
    const tail = await startTail(['order-service', '--json', '--count', '10', '--timeout', '20'])
    expect(tail.stderr()).toMatch(
      /tapping queue .*order-service non-destructively.*orders "order\.\*".*default exchange/,
    )
    for (let i = 0; i < 10; i++) await publish('orders', 'order.created', envelope(i))
    await publish('orders', 'other.key', envelope(99)) // not routed to the queue: not seen
    expect(await tail.exit).toBe(0)
    expect(ndjson(tail.stdout())).toHaveLength(10)
    expect(await depth('order-service')).toBe(10)
  })

  it('--consume empties a queue and loses nothing across a SIGINT in the middle', async () => {
    const total = 3000
    for (let i = 0; i < total; i++) ch.sendToQueue('drain-sigint', Buffer.from(JSON.stringify(envelope(i))))
    expect(await waitFor(async () => (await depth('drain-sigint')) === total, {timeoutMs: 15_000})).toBe(true)
    // stdout is not read at first: the pipe fills, the tail stops acking, and SIGINT lands mid-stream.
    const tail = await startTail(['--queue', 'drain-sigint', '--consume', '--json', '--prefetch', '100'], {
      readStdout: false,
    })
    // It has started consuming once the first prefetch window leaves the ready count.
    expect(await waitFor(async () => (await depth('drain-sigint')) < total, {timeoutMs: 20_000})).toBe(true)
    // Flow control: with nobody reading, it acked at most a pipe buffer's worth (plus one prefetch window).
    expect(await depth('drain-sigint')).toBeGreaterThan(total - 1000)
    tail.child.kill('SIGINT')
    let out = ''
    tail.child.stdout?.on('data', (d) => (out += d))
    expect(await tail.exit).toBe(0)
    const printed = ndjson(out).map((l) => (l.body as {id: string}).id)
    expect(printed.length).toBeGreaterThan(0)
    expect(printed.length).toBeLessThan(total)
    expect(new Set(printed).size).toBe(printed.length)
    const left = await depth('drain-sigint')
    expect(printed.length + left).toBe(total)
    // the rest are still there, none of them printed
    const rest = new Set<string>()
    for (let m = await ch.get('drain-sigint', {noAck: true}); m; m = await ch.get('drain-sigint', {noAck: true})) {
      rest.add((JSON.parse(m.content.toString()) as {id: string}).id)
    }
    expect(rest.size).toBe(left)
    for (const id of printed) expect(rest.has(id)).toBe(false)
    expect(tail.stderr()).toContain('"reason":"signal"')
  })

  it('--consume takes every message of the queue and stops at --count', async () => {
    for (let i = 0; i < 20; i++) ch.sendToQueue('drain-count', Buffer.from(JSON.stringify(envelope(i))))
    expect(await waitFor(async () => (await depth('drain-count')) === 20, {timeoutMs: 15_000})).toBe(true)
    const r = await runCli(
      ['tail', '--queue', 'drain-count', '--consume', '--json', '--count', '15', '--timeout', '20'],
      {
        env,
      },
    )
    expect(r.code).toBe(0)
    expect(ndjson(r.stdout)).toHaveLength(15)
    expect(await depth('drain-count')).toBe(5)
    await ch.purgeQueue('drain-count')
  })

  it('--consume to a pipe with a small prefetch does not stall on messages the pipe may still hold', async () => {
    for (let i = 0; i < 300; i++) ch.sendToQueue('drain-pipe', Buffer.from(JSON.stringify(envelope(i))))
    await waitFor(async () => (await depth('drain-pipe')) === 300, {timeoutMs: 15_000})
    const r = await runCli(
      ['tail', '--queue', 'drain-pipe', '--consume', '--json', '--prefetch', '20', '--count', '300', '--timeout', '20'],
      {env},
    )
    expect(r.code).toBe(0)
    expect(ndjson(r.stdout)).toHaveLength(300)
    expect(await depth('drain-pipe')).toBe(0)
  })

  it('filters on routing key and on fields of the message', async () => {
    const tail = await startTail([
      'orders',
      '--json',
      '--filter',
      'order.*',
      '--where',
      'data.total>100',
      '--where',
      'type=order.*',
      '--count',
      '3',
      '--timeout',
      '20',
    ])
    await publish('orders', 'order.created', envelope(5)) // total 50: no
    await publish('orders', 'invoice.created', envelope(50, 'order.created')) // key: no
    await publish('orders', 'order.created', envelope(20, 'invoice.created')) // type: no
    await publish('orders', 'order.created', envelope(11))
    await publish('orders', 'order.paid', envelope(12, 'order.paid'))
    await publish('orders', 'order.x', envelope(13))
    expect(await tail.exit).toBe(0)
    const ids = ndjson(tail.stdout()).map((l) => (l.body as {id: string}).id)
    expect(ids).toEqual(['evt_000011', 'evt_000012', 'evt_000013'])
  })

  it('exit codes of bounded runs: --timeout with --count unmet is 1; --idle and --timeout alone are 0', async () => {
    const unmet = await runCli(['tail', 'orders', '--json', '--count', '5', '--timeout', '1'], {env})
    expect(unmet.code).toBe(1)
    expect(unmet.stdout).toBe('')
    expect(unmet.stderr).toContain('only 0 of 5 messages arrived')
    const idle = await runCli(['tail', 'orders', '--idle', '0.5'], {env})
    expect(idle.code).toBe(0)
    expect(idle.stderr).toMatch(/stopped because nothing arrived/)
    const timeout = await runCli(['tail', 'orders', '--timeout', '0.5', '--json'], {env})
    expect(timeout.code).toBe(0)
    const idleUnmet = await runCli(['tail', 'orders', '--idle', '0.5', '--count', '1'], {env})
    expect(idleUnmet.code).toBe(1)
    const unreachable = await runCli(['tail', 'orders', '--url', 'amqp://u:p@127.0.0.1:1'], {env: {EVT_HOME: home}})
    expect(unreachable.code).toBe(3)
  })

  it('unknown and ambiguous targets are exit 2 with suggestions and the way to choose', async () => {
    const unknown = await runCli(['tail', 'ordrs'], {env})
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no exchange or queue named "ordrs"')
    expect(unknown.stderr).toContain(`exchange ${tv.vhost}/orders`)
    const ambiguous = await runCli(['tail', 'twin'], {env})
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toContain('ambiguous')
    expect(ambiguous.stderr).toContain('--queue')
    const chosen = await runCli(['tail', '--queue', 'twin', '--consume', '--idle', '0.3'], {env})
    expect(chosen.code).toBe(0)
    const none = await runCli(['tail'], {env})
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('name at least one exchange or queue')
    // A queue fed only by the default exchange is no longer refused: the firehose taps it.
    const defaultOnly = await runCli(['tail', 'direct-only', '--idle', '0.3'], {env})
    expect(defaultOnly.code).toBe(0)
    expect(defaultOnly.stderr).toContain('through the firehose tracer')
  })

  it('a direct exchange with nothing bound is tapped, and keys bound later are followed', async () => {
    await ch.assertExchange('dir-late', 'direct', {durable: true})
    const tail = await startTail(['dir-late', '--json', '--count', '1', '--timeout', '20'])
    expect(tail.stderr()).toMatch(/bound to no key yet, following keys bound from now on/)
    await ch.assertQueue('dir-late-q', {durable: true})
    await ch.bindQueue('dir-late-q', 'dir-late', 'late.key')
    await waitFor(() => tail.stderr().includes('"late.key"'), {timeoutMs: 10_000})
    await publish('dir-late', 'late.key', envelope(1))
    expect(await tail.exit).toBe(0)
    expect(ndjson(tail.stdout())[0]).toMatchObject({exchange: 'dir-late', routingKey: 'late.key'})
  })

  it('shows dead-lettered messages with their x-death history, and --requeue puts them back', async () => {
    await publish('orders', 'order.failed', envelope(1, 'order.failed'))
    await publish('orders', 'order.failed', envelope(2, 'order.failed'))
    expect(await waitFor(async () => (await depth('work')) === 2, {timeoutMs: 15_000})).toBe(true)
    for (let i = 0; i < 2; i++) {
      const m = await ch.get('work', {noAck: false})
      if (!m) throw new Error('expected a message in work')
      ch.nack(m, false, false)
    }
    expect(await waitFor(async () => (await depth('orders.dlq')) === 2, {timeoutMs: 15_000})).toBe(true)
    const r = await runCli(['tail', 'orders.dlq', '--consume', '--requeue', '--count', '2', '--timeout', '20'], {env})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/dead-lettered from queue work \(rejected\) once, originally orders → order\.failed/)
    expect(r.stdout).toContain('evt_000001')
    expect(r.stderr).toContain('2 put back in their queue')
    expect(await depth('orders.dlq')).toBe(2)
    const json = await runCli(['tail', 'orders.dlq', '--consume', '--json', '--count', '2', '--timeout', '20'], {env})
    expect(json.code).toBe(0)
    const lines = ndjson(json.stdout)
    expect((lines[0].headers as {'x-death': {queue: string}[]})['x-death'][0].queue).toBe('work')
    expect(await depth('orders.dlq')).toBe(0)
  })

  it('shows a binary body safely, and base64 in NDJSON', async () => {
    const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x68, 0x69])
    const pretty = await startTail(['orders', '--count', '1', '--timeout', '20'])
    await publish('orders', 'blob.put', binary, {contentType: 'application/octet-stream'})
    expect(await pretty.exit).toBe(0)
    expect(pretty.stdout()).toContain('orders → blob.put')
    expect(pretty.stdout()).toContain('[non-JSON 7 B, application/octet-stream]')
    const json = await startTail(['orders', '--json', '--count', '1', '--timeout', '20'])
    await publish('orders', 'blob.put', binary, {contentType: 'application/octet-stream'})
    expect(await json.exit).toBe(0)
    const [line] = ndjson(json.stdout())
    expect(line.bodyEncoding).toBe('base64')
    expect(Buffer.from(line.body as string, 'base64')).toEqual(binary)
  })

  it('taps fanout, headers and direct exchanges, and several targets at once', async () => {
    await ch.assertExchange('dir', 'direct', {durable: true})
    await ch.assertQueue('dir-q', {durable: true})
    await ch.bindQueue('dir-q', 'dir', 'k1')
    const tail = await startTail(['fan', 'hdr', 'dir', '--json', '--count', '3', '--timeout', '20'], {targets: 3})
    expect(tail.stderr()).toMatch(/tapping exchange \S+\/dir \(direct\) .*bound "k1"/)
    await publish('fan', 'whatever', envelope(1))
    await publish('hdr', '', envelope(2), {headers: {kind: 'x'}})
    await publish('dir', 'k1', envelope(3))
    expect(await tail.exit).toBe(0)
    const lines = ndjson(tail.stdout())
    expect(lines.map((l) => l.exchange).sort()).toEqual(['dir', 'fan', 'hdr'])
    expect(lines.find((l) => l.exchange === 'hdr')?.headers).toEqual({kind: 'x'})
  })

  it('pretty lines are one per message: time, vhost/exchange → key, type, short id, data preview', async () => {
    const tail = await startTail(['orders', '--count', '1', '--timeout', '20'])
    await publish('orders', 'order.created', envelope(7))
    expect(await tail.exit).toBe(0)
    expect(tail.stdout()).toMatch(
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${tv.vhost}/orders → order\\.created  evt_000007  \\{order_id: "order_7", total: 70\\}\\n$`,
      ),
    )
    expect(tail.stderr()).toMatch(/routing key/) // the summary table
  })
})
