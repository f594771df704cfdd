import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type Broker, startBroker} from '../../src/broker/index.js'
import {withVhost} from '../../src/config/url.js'
import {connectAmqp} from '../helpers/broker.js'
import {runCli, spawnCli} from '../helpers/cli.js'
import {testBroker} from '../helpers/runtime.js'

// Its own node: this file restarts the broker. The fixture topology is provisioned into it, so
// `evt tail customers` (the seed-001 exchange) is tried exactly as a user would after `evt up`.
let broker: Broker
let home: string
let env: NodeJS.ProcessEnv
let beforeProvision: {code: number | null; stderr: string}

async function publishCustomers(from: number, n: number): Promise<void> {
  const conn = await connectAmqp(withVhost(broker.amqpUrl, 'ecommerce'))
  const ch = await conn.createConfirmChannel()
  for (let i = from; i < from + n; i++) {
    ch.publish(
      'customers',
      'customer.created',
      Buffer.from(JSON.stringify({id: `evt_${i}`, type: 'customer.created', data: {i}})),
    )
  }
  await ch.waitForConfirms()
  await conn.close()
}

function tail(args: string[]) {
  const child = spawnCli(['tail', ...args], {env})
  const io = {out: '', err: ''}
  child.stdout?.on('data', (d) => (io.out += d))
  child.stderr?.on('data', (d) => (io.err += d))
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const waitFor = async (re: RegExp, what = 'stderr', ms = 30_000) => {
    const deadline = Date.now() + ms
    while (!re.test(what === 'stderr' ? io.err : io.out)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}: ${io.err}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
  return {child, io, exit, waitFor}
}

beforeAll(async () => {
  broker = await startBroker(testBroker('tail-rc'))
  home = await mkdtemp(join(tmpdir(), 'evt-tail-rc-'))
  env = {RABBITMQ_URL: broker.amqpUrl, RABBITMQ_MANAGEMENT_URL: broker.managementUrl, EVT_HOME: home}
  beforeProvision = await runCli(['tail', 'customers', '--timeout', '5'], {env})
  const provisioned = await runCli(['provision'], {env})
  expect(provisioned.code, provisioned.stdout + provisioned.stderr).toBe(0)
})

afterAll(async () => {
  await broker?.stop()
  if (home) await rm(home, {recursive: true, force: true})
})

describe('evt tail on the provisioned topology', () => {
  it('before `evt provision`, `evt tail customers` says to provision (exit 2)', () => {
    expect(beforeProvision.code).toBe(2)
    expect(beforeProvision.stderr).toContain('exchange ecommerce/customers is in the topology but not on the broker')
    expect(beforeProvision.stderr).toContain('evt provision')
  })

  it('`evt tail customers` sees what `evt publish` sends', async () => {
    const t = tail(['customers', '--json', '--count', '3', '--timeout', '30'])
    await t.waitFor(/tapping exchange ecommerce\/customers/)
    const published = await runCli(['publish', 'customer.created', '-n', '3', '--seed', '7'], {env})
    expect(published.code, published.stdout + published.stderr).toBe(0)
    expect(await t.exit).toBe(0)
    const lines = t.io.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines).toHaveLength(3)
    for (const l of lines)
      expect(l).toMatchObject({vhost: 'ecommerce', exchange: 'customers', body: {type: 'customer.created'}})
  })

  it('survives a broker restart: reconnects, re-declares its tap, says so, keeps going', async () => {
    const t = tail(['customers', '--json', '--count', '6', '--timeout', '90'])
    await t.waitFor(/tapping/)
    await publishCustomers(0, 3)
    await t.waitFor(/evt_2/, 'stdout')
    await broker.restart()
    await t.waitFor(/reconnected to vhost ecommerce, tap re-declared/)
    expect(t.io.err).toMatch(/connection to vhost ecommerce lost/)
    await publishCustomers(3, 3)
    expect(await t.exit).toBe(0)
    const ids = t.io.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).body.id)
    expect(ids).toEqual(['evt_0', 'evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5'])
    expect(t.io.err).toContain('"reconnects":1')
  })
})
