import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import {startBroker} from '../../src/broker/index.js'
import type {Broker} from '../../src/broker/types.js'
import {withVhost} from '../../src/config/url.js'
import {ManagementClient} from '../../src/management/client.js'
import type {Definitions} from '../../src/topology/definitions.js'
import {loadTopology} from '../../src/topology/load.js'
import {runCli} from '../helpers/cli.js'

// The fixture's vhost names are fixed (customers, ecommerce ...): a private node keeps other test files clear of them.
let broker: Broker
let api: ManagementClient
let home: string
let fixture: Definitions
let customersPassword: string

const env = () => ({RABBITMQ_URL: broker.amqpUrl, RABBITMQ_MANAGEMENT_URL: broker.managementUrl, EVT_HOME: home})
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, {env: {...env(), ...extra}})

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-provision-it-'))
  broker = await startBroker({runtime: 'local', name: 'provision-it'})
  api = new ManagementClient(broker.managementUrl)
  fixture = await loadTopology()
})

afterAll(async () => {
  await cli(['down', '--name', 'it-b'])
  await broker?.stop()
  await rm(home, {recursive: true, force: true})
})

async function definitions(a: ManagementClient = api): Promise<Definitions> {
  return a.get<Definitions>('/definitions')
}

/** Canonical JSON: keys sorted at every depth, so nested arguments are compared too. */
const key = (o: object): string => JSON.stringify(sortKeys(o))
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(
    Object.entries(v)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, x]) => [k, sortKeys(x)]),
  )
}

describe('evt provision against a private node', () => {
  it('--dry-run plans every object and touches nothing', async () => {
    const res = await cli(['provision', '--dry-run', '--json'])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out.dryRun).toBe(true)
    expect(out.counts.created).toBeGreaterThan(100)
    expect(out.counts.conflicts).toBe(0)
    const vhosts = (await api.get<{name: string}[]>('/vhosts')).map((v) => v.name)
    expect(vhosts).toEqual(['/'])
  })

  it('a fresh provision creates every object of every seed system', async () => {
    const res = await cli(['provision', '--json'])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out.changed).toBe(true)
    expect(out.counts.unchanged).toBe(0)
    expect(out.generatedPasswordsFor).toEqual(['customers_app'])
    // The password is kept in the 0600 store, never printed.
    const file = join(home, 'passwords.json')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const store = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, string>>
    customersPassword = Object.values(store).find((users) => users.customers_app)?.customers_app ?? ''
    expect(customersPassword).toMatch(/^[\w-]{20,}$/)
    expect(res.stdout + res.stderr).not.toContain(customersPassword)

    const now = await definitions()
    const has = (section: 'exchanges' | 'queues' | 'bindings' | 'topic_permissions' | 'permissions') => {
      const present = new Set(now[section].map(key))
      return fixture[section].filter((o) => !present.has(key(o)))
    }
    expect(has('exchanges')).toEqual([])
    expect(has('queues')).toEqual([])
    expect(has('bindings')).toEqual([])
    expect(has('topic_permissions')).toEqual([])
    expect(has('permissions')).toEqual([])
    expect(now.vhosts.map((v) => v.name).sort()).toEqual(['/', 'courses', 'customers', 'ecommerce', 'tutorgo'])
    expect(now.users.find((u) => u.name === 'customers_app')?.tags).toEqual(['administrator'])
  })

  it('a second run changes nothing and says so', async () => {
    const res = await cli(['provision'])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    expect(res.stdout).toMatch(/No changes: all \d+ objects are up to date/)
    expect(res.stderr).not.toContain('Generated a password')
    const json = JSON.parse((await cli(['provision', '--json'])).stdout)
    expect(json.changed).toBe(false)
    expect(json.counts).toMatchObject({created: 0, updated: 0, conflicts: 0})
  })

  it('topic permissions hold: customers_app may publish customers.* on customer_events, not billing.x', async () => {
    const url = new URL(withVhost(broker.amqpUrl, 'customers'))
    url.username = 'customers_app'
    url.password = encodeURIComponent(customersPassword)
    const conn = await connectAmqp(url.toString())
    try {
      const ok = await conn.createConfirmChannel()
      await ok.purgeQueue('customers_created')
      ok.publish('customer_events', 'customers.created.march', Buffer.from('{}'))
      await ok.waitForConfirms()
      expect((await ok.checkQueue('customers_created')).messageCount).toBe(1)
      await ok.close()

      const refused = await conn.createChannel()
      const closed = new Promise<string>((resolve) => {
        refused.on('error', (err: Error) => resolve(err.message))
        setTimeout(() => resolve('no error within 3 s'), 3000)
      })
      refused.publish('customer_events', 'billing.x', Buffer.from('{}'))
      expect(await closed).toContain('ACCESS_REFUSED')
    } finally {
      await conn.close().catch(() => undefined)
    }
  })

  it('a conflicting exchange type fails with exit 2; --force --yes recreates it', async () => {
    await api.delete('/exchanges/customers/customer_events')
    await api.put('/exchanges/customers/customer_events', {type: 'fanout', durable: true})

    const dry = await cli(['provision', '--dry-run'])
    expect(dry.code).toBe(2)
    expect(dry.stdout).toContain('conflict')

    const res = await cli(['provision'])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('exchange customers/customer_events exists with type=fanout')
    expect(res.stderr).toContain('the file wants type=topic')

    const noYes = await cli(['provision', '--force'])
    expect(noYes.code).toBe(2)
    expect(noYes.stderr).toContain('--force needs --yes')
    const ex = await api.get<{type: string}>('/exchanges/customers/customer_events')
    expect(ex.type).toBe('fanout')

    const forced = await cli(['provision', '--force', '--yes', '--json'])
    expect(forced.code, forced.stdout + forced.stderr).toBe(0)
    const out = JSON.parse(forced.stdout)
    expect(out.objects).toContainEqual(
      expect.objectContaining({kind: 'exchange', name: 'customers/customer_events', action: 'recreated'}),
    )
    expect((await api.get<{type: string}>('/exchanges/customers/customer_events')).type).toBe('topic')
    const bindings = await api.get<{destination: string}[]>('/exchanges/customers/customer_events/bindings/source')
    expect(bindings.map((b) => b.destination)).toEqual(['customers_created'])
    expect(JSON.parse((await cli(['provision', '--json'])).stdout).changed).toBe(false)
  })

  it('a bad file exits 2 with file, path and reason, and applies nothing', async () => {
    const bad = join(home, 'bad.json')
    await writeFile(
      bad,
      JSON.stringify({
        vhosts: [{name: 'never-created'}],
        queues: [{name: 'q', vhost: 'never-created'}],
        bindings: [{source: 'missing', vhost: 'never-created', destination: 'q', destination_type: 'queue'}],
      }),
    )
    const res = await cli(['provision', '--file', bad])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('bad.json: $.bindings[0].source: binding from missing exchange "missing"')
    expect(await api.vhostExists('never-created')).toBe(false)
  })

  it('merges several files, applies policies, and updates a changed policy in place', async () => {
    const a = join(home, 'extra-a.json')
    const b = join(home, 'extra-b.json')
    const policy = {
      vhost: 'extra',
      name: 'cap',
      pattern: '^capped',
      'apply-to': 'queues',
      definition: {'max-length': 10},
      priority: 1,
    }
    await writeFile(
      a,
      JSON.stringify({
        vhosts: [{name: 'extra'}],
        exchanges: [{name: 'x', vhost: 'extra', type: 'direct'}],
        policies: [policy],
      }),
    )
    const queueAndBinding = {
      queues: [{name: 'capped.q', vhost: 'extra'}],
      bindings: [{source: 'x', vhost: 'extra', destination: 'capped.q', destination_type: 'queue', routing_key: 'k'}],
    }
    await writeFile(b, JSON.stringify({...queueAndBinding, exchanges: [{name: 'x', vhost: 'extra', type: 'direct'}]}))
    const first = await cli(['provision', '--file', a, '--file', b, '--json'])
    expect(first.code, first.stdout + first.stderr).toBe(0)
    // vhost, exchange, policy, queue, binding (the acting user's permission on the new vhost is the broker's doing)
    expect(JSON.parse(first.stdout).counts).toMatchObject({created: 5, updated: 0})
    expect((await api.get<{definition: unknown}>('/policies/extra/cap')).definition).toEqual({'max-length': 10})

    await writeFile(
      a,
      JSON.stringify({
        vhosts: [{name: 'extra'}],
        exchanges: [{name: 'x', vhost: 'extra', type: 'direct'}],
        policies: [{...policy, definition: {'max-length': 20}}],
      }),
    )
    const second = await cli(['provision', '--file', a, '--file', b, '--json'])
    const out = JSON.parse(second.stdout)
    expect(out.counts).toMatchObject({created: 0, updated: 1})
    expect(out.objects).toContainEqual({
      kind: 'policy',
      name: 'extra/cap',
      vhost: 'extra',
      action: 'updated',
      reason: 'definition',
    })
    expect((await api.get<{definition: unknown}>('/policies/extra/cap')).definition).toEqual({'max-length': 20})

    const only = JSON.parse((await cli(['provision', '--vhost', 'courses', '--dry-run', '--json'])).stdout)
    expect(new Set(only.objects.map((o: {name: string}) => o.name.split('/')[0]))).toEqual(new Set(['courses']))
    await api.deleteVhost('extra')
  })

  it('--delete-guest removes guest when another administrator remains', async () => {
    await api.put('/users/guest', {password: 'guest', tags: 'administrator'})
    const res = await cli(['provision', '--delete-guest', '--json'])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    expect(JSON.parse(res.stdout).guest).toBe('deleted')
    const users = (await api.get<{name: string}[]>('/users')).map((u) => u.name)
    expect(users).not.toContain('guest')
  })

  it('export → provision into a fresh node (started by evt up --no-provision) reproduces the same definitions', async () => {
    const exportFile = join(home, 'export.json')
    const exported = await cli(['provision', '--export', exportFile])
    expect(exported.code, exported.stdout + exported.stderr).toBe(0)

    const bEnv = {EVT_HOME: home, EVT_BROKER: 'it-b'}
    const up = await runCli(['up', '--runtime', 'local', '--no-provision', '--json'], {env: bEnv})
    expect(up.code, up.stdout + up.stderr).toBe(0)
    const upJson = JSON.parse(up.stdout)
    expect(upJson.provision).toBeUndefined()

    const res = await runCli(['provision', '--file', exportFile, '--json'], {env: bEnv})
    expect(res.code, res.stdout + res.stderr).toBe(0)

    const record = JSON.parse(await readFile(join(home, 'brokers', 'it-b.json'), 'utf8'))
    const a = await definitions()
    const b = await definitions(new ManagementClient(record.managementUrl))
    const normalize = (d: Definitions) => ({
      vhosts: d.vhosts.map((v) => v.name).sort(),
      // The acting user (evt) keeps its own password on each node.
      users: d.users
        .map((u) => ({...u, password_hash: u.name === 'evt' ? '' : u.password_hash}))
        .map(key)
        .sort(),
      permissions: d.permissions.map(key).sort(),
      topic_permissions: d.topic_permissions.map(key).sort(),
      policies: d.policies.map(key).sort(),
      exchanges: d.exchanges.map(key).sort(),
      queues: d.queues.map(key).sort(),
      bindings: d.bindings.map(key).sort(),
    })
    expect(normalize(b)).toEqual(normalize(a))

    // `evt up` on the running broker provisions the fixture: already there, nothing changes.
    const again = await runCli(['up', '--runtime', 'local', '--json'], {env: bEnv})
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).provision).toMatchObject({changed: false, created: 0, updated: 0})
  })
})
