import {spawn} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Channel, ChannelModel, ConsumeMessage} from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {enc} from '../../src/management/client.js'
import {waitFor} from '../../src/util/time.js'
import {connectAmqp, createTestVhost, type TestVhost} from '../helpers/broker.js'
import {RUN_JS, runCli, spawnCli} from '../helpers/cli.js'

/**
 * `evt tail` beside programs shaped like RabbitMQ's tutorials 1, 2 and 6 (hello world, work queues, RPC): all
 * three feed their queues through the default exchange, which no binding can copy. The tail must show every
 * message while the tutorial's own consumers still receive all of theirs.
 */

let tv: TestVhost
let home: string
let env: NodeJS.ProcessEnv
const open: ChannelModel[] = []

async function channel(): Promise<Channel> {
  const conn = await connectAmqp(tv.amqpUrl)
  open.push(conn)
  return conn.createChannel()
}

async function tracing(): Promise<boolean> {
  const info = await tv.api.get<{tracing: boolean}>(`/vhosts/${enc(tv.vhost)}`)
  return info.tracing
}

function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** Start `evt tail` and wait for its taps (the "tapping" line on stderr). */
async function startTail(args: string[]) {
  const child = spawnCli(['tail', ...args], {env})
  let out = ''
  let err = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (err += d))
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  await waitFor(() => /tapping|consuming/.test(err) || child.exitCode !== null, {timeoutMs: 15_000})
  if (child.exitCode !== null) throw new Error(`tail did not start: ${err}`)
  return {child, stdout: () => out, stderr: () => err, exit}
}

beforeAll(async () => {
  tv = await createTestVhost('tutorials')
  home = await mkdtemp(join(tmpdir(), 'evt-tutorials-'))
  env = {RABBITMQ_URL: tv.amqpUrl, RABBITMQ_MANAGEMENT_URL: tv.managementUrl, EVT_HOME: home}
})

afterAll(async () => {
  for (const c of open) await c.close().catch(() => undefined)
  await tv?.cleanup()
  if (home) await rm(home, {recursive: true, force: true})
})

describe('evt tail beside the tutorials that use the default exchange', () => {
  it('hello world: the tail sees every message, the consumer receives every message, tracing is put back', async () => {
    expect(await tracing()).toBe(false)
    const ch = await channel()
    await ch.assertQueue('hello', {durable: false})
    const received: string[] = []
    await ch.consume('hello', (m) => m && received.push(m.content.toString()), {noAck: true})
    const tail = await startTail(['hello', '--json', '--count', '20', '--timeout', '30'])
    expect(tail.stderr()).toMatch(/firehose tracer turned ON for vhost/)
    expect(tail.stderr()).toMatch(/tapping queue \S+\/hello through the firehose tracer/)
    expect(await tracing()).toBe(true)
    for (let i = 0; i < 20; i++) ch.sendToQueue('hello', Buffer.from(`Hello World! ${i}`))
    expect(await tail.exit).toBe(0)
    const lines = ndjson(tail.stdout())
    expect(lines.map((l) => l.body)).toEqual(Array.from({length: 20}, (_, i) => `Hello World! ${i}`))
    expect(lines[0]).toMatchObject({exchange: '', routingKey: 'hello', bodyEncoding: 'utf8'})
    await waitFor(() => received.length === 20, {timeoutMs: 5000})
    expect(received).toEqual(lines.map((l) => l.body))
    expect(await tracing()).toBe(false)
  })

  it('work queues: two workers share every task, the tail sees them all', async () => {
    const ch = await channel()
    await ch.assertQueue('task_queue', {durable: true})
    const done: Record<string, number> = {a: 0, b: 0}
    for (const name of ['a', 'b']) {
      const w = await channel()
      await w.prefetch(1)
      await w.consume('task_queue', (m: ConsumeMessage | null) => {
        if (!m) return
        done[name]++
        setTimeout(() => w.ack(m), 2)
      })
    }
    const tail = await startTail(['task_queue', '--json', '--count', '50', '--timeout', '30'])
    for (let i = 0; i < 50; i++) ch.sendToQueue('task_queue', Buffer.from(`task ${i}...`), {persistent: true})
    expect(await tail.exit).toBe(0)
    const lines = ndjson(tail.stdout())
    expect(lines).toHaveLength(50)
    expect(lines.every((l) => (l.properties as {deliveryMode?: number}).deliveryMode === 2)).toBe(true)
    await waitFor(() => done.a + done.b === 50, {timeoutMs: 10_000})
    expect(done.a).toBeGreaterThan(0)
    expect(done.b).toBeGreaterThan(0)
    expect(await tracing()).toBe(false)
  })

  it('RPC: requests on rpc_queue and replies on the callback queue are all seen, every call is answered', async () => {
    const server = await channel()
    await server.assertQueue('rpc_queue', {durable: false})
    await server.prefetch(1)
    await server.consume('rpc_queue', (m) => {
      if (!m) return
      const n = Number(m.content.toString())
      server.sendToQueue(m.properties.replyTo, Buffer.from(String(n * 2)), {correlationId: m.properties.correlationId})
      server.ack(m)
    })
    const client = await channel()
    const callback = await client.assertQueue('', {exclusive: true})
    const answers = new Map<string, string>()
    await client.consume(callback.queue, (m) => m && answers.set(m.properties.correlationId, m.content.toString()), {
      noAck: true,
    })
    const tail = await startTail(['rpc_queue', callback.queue, '--json', '--count', '20', '--timeout', '30'])
    for (let i = 0; i < 10; i++) {
      client.sendToQueue('rpc_queue', Buffer.from(String(i)), {correlationId: `c${i}`, replyTo: callback.queue})
    }
    expect(await tail.exit).toBe(0)
    const lines = ndjson(tail.stdout())
    const requests = lines.filter((l) => l.routingKey === 'rpc_queue')
    const replies = lines.filter((l) => l.routingKey === callback.queue)
    expect(requests).toHaveLength(10)
    expect(replies).toHaveLength(10)
    expect(replies.map((l) => l.body).sort()).toEqual(Array.from({length: 10}, (_, i) => i * 2).sort())
    await waitFor(() => answers.size === 10, {timeoutMs: 5000})
    expect(answers.get('c7')).toBe('14')
  })

  it('RPC over direct reply-to: the replies are routed to no queue, the default exchange shows them', async () => {
    const server = await channel()
    await server.assertQueue('rpc_direct', {durable: false})
    await server.consume('rpc_direct', (m) => {
      if (!m) return
      server.sendToQueue(m.properties.replyTo, Buffer.from(`re:${m.content}`), {
        correlationId: m.properties.correlationId,
      })
      server.ack(m)
    })
    const client = await channel()
    const answers: string[] = []
    await client.consume('amq.rabbitmq.reply-to', (m) => m && answers.push(m.content.toString()), {noAck: true})
    const tail = await startTail(['--exchange', 'amq.default', '--json', '--count', '6', '--timeout', '30'])
    expect(tail.stderr()).toMatch(/default exchange.*direct reply-to/)
    for (let i = 0; i < 3; i++) {
      client.sendToQueue('rpc_direct', Buffer.from(`q${i}`), {correlationId: `d${i}`, replyTo: 'amq.rabbitmq.reply-to'})
    }
    expect(await tail.exit).toBe(0)
    const lines = ndjson(tail.stdout())
    expect(lines.filter((l) => l.routingKey === 'rpc_direct').map((l) => l.body)).toEqual(['q0', 'q1', 'q2'])
    const replies = lines.filter((l) => String(l.routingKey).startsWith('amq.rabbitmq.reply-to.'))
    expect(replies.map((l) => l.body).sort()).toEqual(['re:q0', 're:q1', 're:q2'])
    await waitFor(() => answers.length === 3, {timeoutMs: 5000})
  })

  it('without the management API: says what is lost, still taps an exchange over AMQP alone', async () => {
    const ch = await channel()
    await ch.assertExchange('logs', 'fanout', {durable: false})
    const offline = {...env, RABBITMQ_MANAGEMENT_URL: 'http://127.0.0.1:1'}
    const child = spawnCli(['tail', 'logs', '--json', '--count', '2', '--timeout', '30'], {env: offline})
    let out = ''
    let err = ''
    child.stdout?.on('data', (d) => (out += d))
    child.stderr?.on('data', (d) => (err += d))
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve))
    await waitFor(() => err.includes('tapping') || child.exitCode !== null, {timeoutMs: 15_000})
    expect(err).toContain('the management API is not reachable: working over AMQP alone')
    ch.publish('logs', '', Buffer.from('one'))
    ch.publish('logs', '', Buffer.from('two'))
    expect(await exit).toBe(0)
    expect(ndjson(out).map((l) => l.body)).toEqual(['one', 'two'])
    const missing = spawnCli(['tail', 'nope', '--idle', '1'], {env: offline})
    let missingErr = ''
    missing.stderr?.on('data', (d) => (missingErr += d))
    expect(await new Promise((resolve) => missing.on('close', resolve))).toBe(2)
    expect(missingErr).toContain('no exchange or queue named "nope"')
  })

  it('a user without the administrator tag is told which permission turning tracing on needs (exit 3)', async () => {
    const user = `watcher-${tv.vhost}`
    await tv.api.put(`/users/${enc(user)}`, {password: 'w-secret', tags: 'management'})
    await tv.api.put(`/permissions/${enc(tv.vhost)}/${enc(user)}`, {configure: '.*', write: '.*', read: '.*'})
    try {
      const ch = await channel()
      await ch.assertQueue('hello', {durable: false})
      const amqp = new URL(tv.amqpUrl)
      amqp.username = user
      amqp.password = 'w-secret'
      const mgmt = new URL(tv.managementUrl)
      mgmt.username = user
      mgmt.password = 'w-secret'
      const r = await runCli(['tail', 'hello', '--idle', '1'], {
        env: {...env, RABBITMQ_URL: amqp.toString(), RABBITMQ_MANAGEMENT_URL: mgmt.toString()},
      })
      expect(r.code, r.stdout + r.stderr).toBe(3)
      expect(r.stderr).toContain('cannot turn the firehose tracer on')
      expect(r.stderr).toContain('administrator tag')
      expect(r.stderr).toContain(`rabbitmqctl trace_on -p ${tv.vhost}`)
      expect(r.stderr).not.toContain('w-secret')
      expect(await tracing()).toBe(false)
    } finally {
      await tv.api.delete(`/users/${enc(user)}`)
    }
  })

  it('a SIGKILLed tail still leaves tracing as it found it', async () => {
    const ch = await channel()
    await ch.assertQueue('hello', {durable: false})
    const tail = await startTail(['hello', '--json'])
    expect(await tracing()).toBe(true)
    tail.child.kill('SIGKILL')
    await tail.exit
    await waitFor(async () => !(await tracing()), {timeoutMs: 15_000})
  })

  it('leaves tracing on when it was on already', async () => {
    await tv.api.put(`/vhosts/${enc(tv.vhost)}`, {tracing: true})
    try {
      const tail = await startTail(['hello', '--json', '--idle', '0.5'])
      expect(tail.stderr()).toMatch(/already on/)
      expect(await tail.exit).toBe(0)
      expect(await tracing()).toBe(true)
    } finally {
      await tv.api.put(`/vhosts/${enc(tv.vhost)}`, {tracing: false})
    }
  })

  it('--consume | head -5 loses nothing: what head did not read is still in the queue', async () => {
    const ch = await channel()
    await ch.assertQueue('piped', {durable: true})
    const total = 2000
    for (let i = 0; i < total; i++) ch.sendToQueue('piped', Buffer.from(JSON.stringify({id: i, pad: 'x'.repeat(100)})))
    await waitFor(async () => (await ch.checkQueue('piped')).messageCount === total, {timeoutMs: 10_000})
    const cmd = `"${process.execPath}" "${RUN_JS}" tail --queue piped --consume --json | head -5; echo "exit=\${PIPESTATUS[0]}" >&2`
    const child = spawn('bash', ['-c', cmd], {env: {...process.env, ...env, NO_COLOR: '1'}})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    await new Promise((resolve) => child.on('close', resolve))
    const printed = ndjson(out).map((l) => (l.body as {id: number}).id)
    expect(printed).toHaveLength(5)
    expect(err).toContain('exit=141')
    const left = new Set<number>()
    for (let m = await ch.get('piped', {noAck: true}); m; m = await ch.get('piped', {noAck: true})) {
      left.add((JSON.parse(m.content.toString()) as {id: number}).id)
    }
    // Nothing lost: every message was either read by head or is still in the queue.
    for (let i = 0; i < total; i++) if (!printed.includes(i)) expect(left.has(i)).toBe(true)
  })
})
