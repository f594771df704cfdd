import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import type {Channel, ChannelModel, ConsumeMessage} from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {sleep, waitFor} from '../../src/util/time.js'
import {connectAmqp, createTestVhost, type TestVhost} from '../helpers/broker.js'
import {runCli, spawnCli} from '../helpers/cli.js'

let tv: TestVhost
let home: string
let env: NodeJS.ProcessEnv
let conn: ChannelModel
let ch: Channel

beforeAll(async () => {
  tv = await createTestVhost('replay')
  home = await mkdtemp(join(tmpdir(), 'evt-replay-'))
  env = {RABBITMQ_URL: tv.amqpUrl, RABBITMQ_MANAGEMENT_URL: tv.managementUrl, EVT_HOME: home}
  conn = await connectAmqp(tv.amqpUrl)
  ch = await conn.createChannel()
  await ch.assertExchange('src', 'topic', {durable: true})
  await ch.assertExchange('dst', 'topic', {durable: true})
  await ch.assertExchange('nowhere', 'topic', {durable: true})
  await ch.assertQueue('dst-q', {durable: true})
  await ch.bindQueue('dst-q', 'dst', '#')
})

afterAll(async () => {
  await conn?.close().catch(() => undefined)
  await tv?.cleanup()
  if (home) await rm(home, {recursive: true, force: true})
})

const sent = [
  {
    key: 'order.created',
    body: Buffer.from('{"id":"evt_1","n":1.50,"data":{"total":10}}'),
    props: {
      contentType: 'application/json',
      messageId: 'm1',
      correlationId: 'c1',
      type: 'order.created',
      appId: 'shop',
      timestamp: 1_700_000_000,
      priority: 3,
      deliveryMode: 2,
      headers: {tenant: 'acme', attempt: 2},
    },
  },
  {key: 'order.pretty', body: Buffer.from('{\n  "id": "evt_2"\n}\n'), props: {contentType: 'application/json'}},
  {key: 'note.text', body: Buffer.from('plain text, ünïcode\nsecond line'), props: {contentType: 'text/plain'}},
  {key: 'blob.bin', body: Buffer.from([0, 1, 2, 0xff, 0xfe]), props: {contentType: 'application/octet-stream'}},
  {
    key: 'order.zipped',
    body: gzipSync(Buffer.from('{"zipped":true}')),
    props: {contentType: 'application/json', contentEncoding: 'gzip'},
  },
]

describe('evt tail --save, evt publish --from', () => {
  it('a saved stream replays to the same messages: bodies byte for byte, properties, headers, keys', async () => {
    const file = join(home, 'saved.ndjson')
    const child = spawnCli(['tail', 'src', '--save', file, '--count', String(sent.length), '--timeout', '30'], {
      env,
    })
    let err = ''
    let out = ''
    child.stderr?.on('data', (d) => (err += d))
    child.stdout?.on('data', (d) => (out += d))
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve))
    await waitFor(() => err.includes('tapping'), {timeoutMs: 15_000})
    for (const [i, m] of sent.entries()) {
      // A gap before the last message: --speed 1 must keep it.
      if (i === sent.length - 1) await sleep(1500)
      ch.publish('src', m.key, m.body, m.props)
    }
    expect(await exit).toBe(0)
    expect(err).toContain(`${sent.length} saved`)
    // pretty output on the way: text as text, gzip decoded for display
    expect(out).toContain('"plain text, ünïcode second line"')
    expect(out).toContain('zipped: true')
    const lines = (await readFile(file, 'utf8')).trim().split('\n')
    expect(lines).toHaveLength(sent.length)
    expect(lines.map((l) => (JSON.parse(l) as {bodyEncoding: string}).bodyEncoding)).toEqual([
      'json',
      'utf8',
      'utf8',
      'base64',
      'base64',
    ])

    const got: {m: ConsumeMessage; at: number}[] = []
    const {consumerTag} = await ch.consume('dst-q', (m) => m && got.push({m, at: Date.now()}), {noAck: true})
    const r = await runCli(['publish', '--from', file, '--exchange', 'dst', '--speed', '1'], {env})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/5 message\(s\)/)
    await waitFor(() => got.length === sent.length, {timeoutMs: 10_000})
    await ch.cancel(consumerTag)
    for (const [i, {m}] of got.entries()) {
      expect(m.fields.routingKey).toBe(sent[i].key)
      expect(m.content.equals(sent[i].body)).toBe(true)
      const {headers, ...props} = sent[i].props as Record<string, unknown>
      expect(m.properties).toMatchObject(props)
      if (headers) expect(m.properties.headers).toEqual(headers)
    }
    // Recorded pacing: the last message came 1.5 s after the others; a loaded machine may delay the one
    // before it, so the bound leaves room, and without pacing the gap would be a few milliseconds.
    expect(got[4].at - got[3].at).toBeGreaterThan(800)
  })

  it('counts unroutable replays as returned (exit 1), and --routing-key overrides', async () => {
    const file = join(home, 'saved.ndjson')
    const r = await runCli(['publish', '--from', file, '--exchange', 'nowhere', '--json'], {env})
    expect(r.code).toBe(1)
    const summary = JSON.parse(r.stdout) as {totals: {published: number; returned: number; confirmed: number}}
    expect(summary.totals).toMatchObject({published: 5, returned: 5, confirmed: 0})
    const again = await runCli(['publish', '--from', file, '--exchange', 'dst', '--routing-key', 'x.y', '--json'], {
      env,
    })
    expect(again.code).toBe(0)
    await waitFor(async () => (await ch.checkQueue('dst-q')).messageCount === 5, {timeoutMs: 5000})
    const m = await ch.get('dst-q', {noAck: true})
    expect(m ? m.fields.routingKey : undefined).toBe('x.y')
    await ch.purgeQueue('dst-q')
  })
})
