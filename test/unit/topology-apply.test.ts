import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {EvtError, UnreachableError} from '../../src/errors.js'
import {describeReason, ManagementClient, ManagementHttpError} from '../../src/management/client.js'
import {type Definitions, emptyDefinitions} from '../../src/topology/definitions.js'
import {provision} from '../../src/topology/provision.js'
import {FakeManagement} from '../helpers/fake-management.js'

let fake: FakeManagement
let url: string
let home: string

beforeEach(async () => {
  fake = new FakeManagement()
  url = await fake.start()
  home = await mkdtemp(join(tmpdir(), 'evt-apply-'))
})
afterEach(async () => {
  await fake.stop()
  await rm(home, {recursive: true, force: true})
})

function defs(n: number): Definitions {
  const vhost = 'shop'
  return {
    ...emptyDefinitions(),
    users: [{name: 'app', tags: ['management'], password_hash: 'hash-app'}],
    vhosts: [{name: vhost, description: 'the shop'}],
    permissions: [{user: 'app', vhost, configure: '.*', write: '.*', read: '.*'}],
    global_parameters: [{name: 'cluster_name', value: 'shop'}],
    parameters: [{vhost, component: 'vhost-limits', name: 'limits', value: {'max-queues': 100}}],
    exchanges: [
      {name: 'events', vhost, type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {}},
    ],
    queues: Array.from({length: n}, (_, i) => ({
      name: `q${i}`,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: {},
    })),
    bindings: Array.from({length: n}, (_, i) => ({
      source: 'events',
      vhost,
      destination: `q${i}`,
      destination_type: 'queue' as const,
      routing_key: `k${i}`,
      arguments: {},
    })),
  }
}

const run = (definitions: Definitions, extra: {dryRun?: boolean} = {}) =>
  provision({managementUrl: url, definitions, home, env: {}, ...extra})

describe('provision through the management import (fake API)', () => {
  it('sends every object in one import document, then a rerun changes nothing', async () => {
    const first = await run(defs(50))
    expect(first.changed).toBe(true)
    expect(first.counts).toMatchObject({created: 106, updated: 0})
    expect(fake.requests.filter((r) => r === 'POST /definitions')).toHaveLength(1)
    expect(fake.state.global_parameters).toEqual([{name: 'cluster_name', value: 'shop'}])
    expect(fake.state.parameters).toHaveLength(1)

    fake.requests.length = 0
    const second = await run(defs(50))
    expect(second.changed).toBe(false)
    expect(second.counts).toMatchObject({created: 0, updated: 0, unchanged: 106})
    expect(fake.requests).not.toContain('POST /definitions')
  })

  it('a refused object stops the run naming it, the reason and how many were applied; a rerun continues', async () => {
    fake.refuse = (section, o) =>
      section === 'queues' && o.name === 'q7' ? 'precondition_failed: invalid arg for queue q7' : undefined
    const err = await run(defs(10)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EvtError)
    const e = err as EvtError
    expect(e.exitCode).toBe(2)
    expect(e.message).toBe(
      'the broker refused to create queue shop/q7: precondition_failed: invalid arg for queue q7 (HTTP 400)',
    )
    // users, vhost, permission, exchange, global parameter, parameter and q0..q6 went in before q7.
    expect(e.hint).toContain('13 of 26 object(s) were applied before it')
    expect(e.message).not.toContain('credentials')
    expect(fake.state.queues.map((q) => q.name)).not.toContain('q7')

    fake.refuse = () => undefined
    fake.requests.length = 0
    const again = await run(defs(10))
    expect(again.counts).toMatchObject({created: 13, unchanged: 13})
    expect(fake.state.bindings).toHaveLength(10)
  })

  it('keeps the password of an existing user given without a hash (RabbitMQ would clear it)', async () => {
    fake.state.users.push({name: 'app', tags: [], password_hash: 'keep-me'})
    const d = defs(1)
    d.users = [{name: 'app', tags: ['monitoring']}]
    const res = await run(d)
    expect(res.objects).toContainEqual({kind: 'user', name: 'app', action: 'updated', reason: 'tags'})
    expect(fake.state.users.find((u) => u.name === 'app')).toMatchObject({
      password_hash: 'keep-me',
      tags: ['monitoring'],
    })
  })

  it('resolves references against the broker: a binding to an exchange that is only on the broker', async () => {
    await run(defs(1))
    const partial: Definitions = {
      ...emptyDefinitions(),
      queues: [{name: 'late', vhost: 'shop', durable: true, auto_delete: false, arguments: {}}],
      bindings: [
        {
          source: 'events',
          vhost: 'shop',
          destination: 'late',
          destination_type: 'queue',
          routing_key: 'x',
          arguments: {},
        },
      ],
      permissions: [{user: 'app', vhost: 'shop', configure: '', write: '.*', read: '.*'}],
    }
    const res = await run(partial)
    expect(res.counts).toMatchObject({created: 2, updated: 1})
  })

  it('refuses a file whose exchange type the broker lacks before changing anything', async () => {
    const d = defs(1)
    d.exchanges[0].type = 'x-delayed-message'
    const err = (await run(d).catch((e: unknown) => e)) as EvtError
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain('$.exchanges[0].type: exchange shop/events: the broker has no exchange type')
    expect(fake.requests).not.toContain('POST /definitions')
  })
})

describe('ManagementClient', () => {
  it('a 401 on an action while the credentials still log in is a refusal, not a credentials problem', async () => {
    fake.deny = 'PUT /exchanges/shop/amq.x'
    const api = new ManagementClient(url)
    const err = await api.put('/exchanges/shop/amq.x', {type: 'topic'}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ManagementHttpError)
    expect((err as ManagementHttpError).reason).toBe('Access refused.')
    const bad = new ManagementClient(url.replace('secret', 'wrong'))
    expect(await bad.get('/overview').catch((e: unknown) => e)).toBeInstanceOf(UnreachableError)
  })

  it('turns Erlang-shaped import reasons into sentences', () => {
    const chars = [...'inequivalent arg'].map((c) => c.charCodeAt(0))
    expect(describeReason(['amqp_error', 'precondition_failed', chars, 'none'])).toBe(
      'precondition_failed: inequivalent arg',
    )
    expect(describeReason(['no_such_user', 'ghost'])).toBe('no_such_user ghost')
    expect(describeReason('Validation failed\n\n[{&lt;&lt;"k"&gt;&gt;,1}] are not recognised\n (v/p)')).toBe(
      'Validation failed [{<<"k">>,1}] are not recognised (v/p)',
    )
  })
})
