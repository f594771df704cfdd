import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {fixturesDir} from '../../src/topology/definitions.js'
import {waitFor} from '../../src/util/time.js'
import {connectAmqp, createTestVhost, type TestVhost} from '../helpers/broker.js'
import {runCli} from '../helpers/cli.js'

let t: TestVhost
let dir: string
let env: NodeJS.ProcessEnv
beforeAll(async () => {
  t = await createTestVhost('topo')
  dir = await mkdtemp(join(tmpdir(), 'evt-topology-'))
  env = {RABBITMQ_URL: t.brokerUrl, RABBITMQ_MANAGEMENT_URL: t.managementUrl, EVT_HOME: join(dir, '.evt')}
  // The tutorgo seed topology, moved into this file's own vhost.
  const seed = JSON.parse(await readFile(join(fixturesDir(), 'topology', 'tutorgo.json'), 'utf8'))
  const into = (list: {vhost: string}[]) => list.map((o) => ({...o, vhost: t.vhost}))
  await t.api.post(`/definitions/${encodeURIComponent(t.vhost)}`, {
    exchanges: into(seed.exchanges),
    queues: into(seed.queues),
    bindings: into(seed.bindings),
  })
})
afterAll(async () => {
  await t?.cleanup()
  if (dir) await rm(dir, {recursive: true, force: true})
})

describe('evt topology', () => {
  it('shows the live vhost as a tree with counts and dead-letter routes, and the same graph as JSON', async () => {
    const conn = await connectAmqp(t.amqpUrl)
    const ch = await conn.createConfirmChannel()
    for (let i = 0; i < 3; i++) ch.publish('tutorgo_events', 'review.submitted', Buffer.from('{}'), {persistent: true})
    await ch.waitForConfirms()
    await conn.close()
    // Management statistics lag by up to 5 s: poll until the counts show.
    let json: {graph: {vhosts: {queues: {name: string; stats?: {ready: number}}[]}[]}} | undefined
    const seen = await waitFor(
      async () => {
        const r = await runCli(['topology', t.vhost, '--json'], {env})
        if (r.code !== 0) throw new Error(r.stderr)
        json = JSON.parse(r.stdout)
        return json?.graph.vhosts[0].queues.find((q) => q.name === 'notification.review')?.stats?.ready === 3
      },
      {timeoutMs: 30_000, intervalMs: 500},
    )
    expect(seen, 'notification.review shows 3 ready').toBe(true)
    const r = await runCli(['topology', t.vhost], {env})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain(`vhost ${t.vhost}`)
    expect(r.stdout).toMatch(
      /review\.submitted → notification\.review {2}classic, durable · 3 ready, 0 unacked, 0 consumers/,
    )
    expect(r.stdout).toMatch(/↳ dead-letters → tutorgo_dlx \[notification\.review\.dead\] → notification\.review\.dead/)
  })

  it('finds the type that no longer reaches a queue when its binding is removed, and fails --check with exit 1', async () => {
    const seed = JSON.parse(await readFile(join(fixturesDir(), 'topology', 'tutorgo.json'), 'utf8'))
    const file = join(dir, 'tutorgo-broken.json')
    seed.bindings = seed.bindings.filter((b: {routing_key: string}) => b.routing_key !== 'review.submitted')
    await writeFile(file, JSON.stringify(seed))
    const ok = await runCli(
      ['topology', 'tutorgo', '--events', '--check', '--file', join(fixturesDir(), 'topology', 'tutorgo.json')],
      {env},
    )
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toContain('Every type reaches a queue')
    const broken = await runCli(['topology', 'tutorgo', '--events', '--check', '--json', '--file', file], {env})
    expect(broken.code).toBe(1)
    const out = JSON.parse(broken.stdout)
    expect(out.error.details.unroutedTypes.map((r: {type: string}) => r.type)).toEqual(['tutorgo/review.submitted'])
    // ... and its queue, with the dead-letter queue only it fed.
    expect(out.error.details.unreachedQueues).toEqual([
      {vhost: 'tutorgo', queue: 'notification.review'},
      {vhost: 'tutorgo', queue: 'notification.review.dead'},
    ])
  })

  it('writes a DOT diagram to a file, and an unknown vhost is exit 2 with a suggestion', async () => {
    const out = join(dir, 'tutorgo.dot')
    const r = await runCli(['topology', t.vhost, '--format', 'dot', '--output', out], {env})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(await readFile(out, 'utf8')).toMatch(/^digraph topology \{/)
    const bad = await runCli(['topology', `${t.vhost}x`], {env})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(
      new RegExp(`no vhost or system "${t.vhost}x" in the topology\\. Did you mean ${t.vhost}`),
    )
  })
  it('provision --dry-run --tree shows a change to the live topology as the tree, with marks, and as JSON', async () => {
    const seed = JSON.parse(await readFile(join(fixturesDir(), 'topology', 'tutorgo.json'), 'utf8'))
    const into = (list: {vhost: string}[]) => list.map((o) => ({...o, vhost: t.vhost}))
    const bindings = into(seed.bindings) as unknown as {destination: string}[]
    const change = {
      exchanges: into(seed.exchanges),
      queues: [
        ...into(seed.queues),
        {name: 'review.audit', vhost: t.vhost, durable: true, auto_delete: false, arguments: {}},
      ],
      bindings: [
        ...bindings.filter((b) => b.destination !== 'notification.review'),
        {
          source: 'tutorgo_events',
          vhost: t.vhost,
          destination: 'review.audit',
          destination_type: 'queue',
          routing_key: 'review.#',
          arguments: {},
        },
      ],
    }
    const file = join(dir, 'change.json')
    await writeFile(file, JSON.stringify(change))
    const r = await runCli(['provision', '--dry-run', '--tree', '--file', file], {env})
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines.find((l) => l.includes('→ review.audit'))).toMatch(/^\+ .*review\.# → review\.audit .*\[new\]$/)
    expect(lines.find((l) => l.includes('→ notification.review '))).toMatch(/\[not in the files: left as it is\]$/)
    expect(r.stdout).toMatch(/Dry run: 2 to create, 0 to update, 0 conflict\(s\); nothing was applied\./)
    const json = await runCli(['provision', '--dry-run', '--tree', '--json', '--file', file], {env})
    expect(json.code, json.stdout + json.stderr).toBe(0)
    const marks = JSON.parse(json.stdout).diff.objects as {kind: string; name: string; mark: string}[]
    expect(
      marks
        .filter((m) => m.mark === 'add')
        .map((m) => `${m.kind} ${m.name}`)
        .sort(),
    ).toEqual(['binding tutorgo_events → queue review.audit [review.#]', 'queue review.audit'])
    // Nothing was applied.
    const queues = await t.api.get<{name: string}[]>(`/queues/${encodeURIComponent(t.vhost)}`)
    expect(queues.map((q) => q.name)).not.toContain('review.audit')
    const bad = await runCli(['provision', '--tree', '--file', file], {env})
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim()).toBe('Error: --tree shows a plan without applying it. Add --dry-run')
  })
})
