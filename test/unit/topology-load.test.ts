import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {loadDefinitionsFiles, loadTopology} from '../../src/topology/load.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evt-topo-load-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

const base = {
  vhosts: [{name: 'v1'}],
  exchanges: [{name: 'orders', vhost: 'v1', type: 'topic'}],
  queues: [{name: 'q1', vhost: 'v1'}],
  bindings: [{source: 'orders', vhost: 'v1', destination: 'q1', destination_type: 'queue', routing_key: 'order.*'}],
}

async function loadError(files: string[]): Promise<UsageError> {
  try {
    await loadDefinitionsFiles(files)
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return err as UsageError
  }
  throw new Error('expected a UsageError')
}

describe('loadDefinitionsFiles', () => {
  it('fills RabbitMQ defaults', async () => {
    const defs = await loadDefinitionsFiles([await file('ok.json', base)])
    expect(defs.exchanges[0]).toEqual({
      name: 'orders',
      vhost: 'v1',
      type: 'topic',
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: {},
    })
    expect(defs.bindings[0].arguments).toEqual({})
    expect(defs.users).toEqual([])
  })

  it('reports invalid JSON with the file', async () => {
    const f = await file('bad.json', '{"vhosts": [')
    const err = await loadError([f])
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain('bad.json')
    expect(err.message).toContain('invalid JSON')
  })

  it('reports unknown keys with the JSON path', async () => {
    const f = await file('unknown.json', {...base, queues: [{name: 'q1', vhost: 'v1', durible: true}]})
    const err = await loadError([f])
    expect(err.message).toContain('unknown.json: $.queues[0]: unknown key "durible"')
  })

  it('refuses plain-text passwords', async () => {
    const f = await file('pw.json', {...base, users: [{name: 'u', password: 'secret', tags: []}]})
    const err = await loadError([f])
    expect(err.message).toContain('$.users[0]: unknown key "password"')
    expect(err.message).toContain('plain-text passwords')
  })

  it('reports a binding to a missing exchange or queue', async () => {
    const f = await file('missing.json', {
      ...base,
      bindings: [
        {source: 'nope', vhost: 'v1', destination: 'q1', destination_type: 'queue', routing_key: 'x'},
        {source: 'orders', vhost: 'v1', destination: 'gone', destination_type: 'queue', routing_key: 'x'},
      ],
    })
    const err = await loadError([f])
    expect(err.message).toContain('missing.json: $.bindings[0].source: binding from missing exchange "nope"')
    expect(err.message).toContain('missing.json: $.bindings[1].destination: binding to missing queue "gone"')
  })

  it('reports permissions for an unknown user or vhost', async () => {
    const f = await file('perm.json', {
      ...base,
      permissions: [{user: 'ghost', vhost: 'v9', configure: '.*', write: '.*', read: '.*'}],
    })
    const err = await loadError([f])
    expect(err.message).toContain('$.permissions[0].user: unknown user "ghost"')
    expect(err.message).toContain('$.permissions[0].vhost: unknown vhost "v9"')
  })

  it('accepts a binding whose exchange is defined in another file', async () => {
    const a = await file('a.json', {vhosts: [{name: 'v1'}], exchanges: base.exchanges})
    const b = await file('b.json', {queues: base.queues, bindings: base.bindings})
    const defs = await loadDefinitionsFiles([a, b])
    expect(defs.bindings).toHaveLength(1)
  })

  it('de-duplicates identical objects across files', async () => {
    const a = await file('dup-a.json', base)
    const b = await file('dup-b.json', base)
    const defs = await loadDefinitionsFiles([a, b])
    expect(defs.exchanges).toHaveLength(1)
    expect(defs.queues).toHaveLength(1)
    expect(defs.bindings).toHaveLength(1)
    expect(defs.vhosts).toHaveLength(1)
  })

  it('treats conflicting duplicates as an error naming both files', async () => {
    const a = await file('c-a.json', base)
    const b = await file('c-b.json', {...base, exchanges: [{name: 'orders', vhost: 'v1', type: 'fanout'}]})
    const err = await loadError([a, b])
    expect(err.message).toContain('c-b.json: $.exchanges[0]: exchange v1/orders conflicts with')
    expect(err.message).toContain('c-a.json $.exchanges[0]')
  })

  it('accepts a UTF-8 byte order mark, as RabbitMQ does', async () => {
    const f = await file('bom.json', `\uFEFF${JSON.stringify(base)}`)
    expect((await loadDefinitionsFiles([f])).queues[0].name).toBe('q1')
  })

  it('resolves references against the broker too (partial files)', async () => {
    const f = await file('partial.json', {
      permissions: [{user: 'app', vhost: 'live', configure: '.*', write: '.*', read: '.*'}],
      queues: [{name: 'q2', vhost: 'live'}],
      bindings: [{source: 'events', vhost: 'live', destination: 'q2', destination_type: 'queue', routing_key: 'k'}],
    })
    const message = (await loadError([f])).message
    expect(message).toContain('unknown user "app" (not in users, not on the broker)')
    expect(message).toContain('binding from missing exchange "events" in vhost live')
    const broker = {
      vhosts: [{name: 'live'}],
      users: [{name: 'app', tags: []}],
      exchanges: [
        {
          name: 'events',
          vhost: 'live',
          type: 'topic',
          durable: true,
          auto_delete: false,
          internal: false,
          arguments: {},
        },
      ],
    }
    expect((await loadDefinitionsFiles([f], {broker})).bindings).toHaveLength(1)
  })

  it('refuses a user without tags, as RabbitMQ does (tags_not_present)', async () => {
    const f = await file('notags.json', {users: [{name: 'u', password_hash: 'x'}]})
    expect((await loadError([f])).message).toContain("$.users[0]: must have required property 'tags'")
  })

  it('accepts a RabbitMQ 3.10 export shape', async () => {
    const f = await file('export.json', {
      rabbit_version: '3.10.8',
      rabbitmq_version: '3.10.8',
      product_name: 'RabbitMQ',
      product_version: '3.10.8',
      users: [
        {
          name: 'evt',
          password_hash: 'abc',
          hashing_algorithm: 'rabbit_password_hashing_sha256',
          tags: ['administrator'],
          limits: {},
        },
      ],
      vhosts: [{name: '/'}, {name: 'v1', limits: [], metadata: {description: '', tags: []}}],
      permissions: [{user: 'evt', vhost: 'v1', configure: '.*', write: '.*', read: '.*'}],
      topic_permissions: [],
      parameters: [],
      global_parameters: [{name: 'cluster_name', value: 'x'}],
      policies: [],
      queues: [{name: 'q1', vhost: 'v1', durable: true, auto_delete: false, arguments: {}}],
      exchanges: [],
      bindings: [
        {
          source: 'amq.topic',
          vhost: 'v1',
          destination: 'q1',
          destination_type: 'queue',
          routing_key: '#',
          arguments: {},
        },
      ],
    })
    const defs = await loadDefinitionsFiles([f])
    expect(defs.users[0].name).toBe('evt')
    expect(defs.bindings[0].source).toBe('amq.topic')
  })
})

describe('loadTopology (the fixture)', () => {
  it('has one vhost per seed system', async () => {
    const defs = await loadTopology()
    expect(defs.vhosts.map((v) => v.name).sort()).toEqual(['courses', 'customers', 'ecommerce', 'tutorgo'])
  })
})
