import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startBroker} from '../../src/broker/index.js'
import type {Broker} from '../../src/broker/types.js'
import {ManagementClient, ManagementHttpError} from '../../src/management/client.js'
import {runCli} from '../helpers/cli.js'

/**
 * Conformance with RabbitMQ's own import: each corpus file goes to node A through `evt provision` and to
 * node B through `POST /api/definitions`; then both nodes must hold the same definitions, object by
 * object, and a second evt run must say "No changes". Users and global parameters are cluster-wide, so
 * each side is a fresh private node. Files apply in order (later ones refer to objects of earlier ones).
 */
const CORPUS = fileURLToPath(new URL('../fixtures/definitions/', import.meta.url))

let evtNode: Broker
let importNode: Broker
let a: ManagementClient
let b: ManagementClient
let home: string

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-conformance-'))
  evtNode = await startBroker({runtime: 'local', name: 'conformance-evt'})
  importNode = await startBroker({runtime: 'local', name: 'conformance-import'})
  a = new ManagementClient(evtNode.managementUrl, 60_000)
  b = new ManagementClient(importNode.managementUrl, 60_000)
})

afterAll(async () => {
  await Promise.all([evtNode?.stop(), importNode?.stop()])
  await rm(home, {recursive: true, force: true})
})

const evt = (args: string[]) =>
  runCli(['provision', ...args], {
    env: {RABBITMQ_URL: evtNode.amqpUrl, RABBITMQ_MANAGEMENT_URL: evtNode.managementUrl, EVT_HOME: home},
    timeoutMs: 120_000,
  })

type Obj = Record<string, unknown>
const sortKeys = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sortKeys)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v as Obj)
            .sort(([x], [y]) => (x < y ? -1 : 1))
            .map(([k, x]) => [k, sortKeys(x)]),
        )
      : v
const canon = (list: unknown[] = []) => list.map((o) => JSON.stringify(sortKeys(o))).sort()

/** Everything a definitions export and the vhost metadata say, minus what differs by node. */
async function state(api: ManagementClient): Promise<Record<string, string[]>> {
  const [defs, vhosts] = await Promise.all([api.get<Record<string, Obj[]>>('/definitions'), api.get<Obj[]>('/vhosts')])
  const out: Record<string, string[]> = {}
  for (const section of [
    'permissions',
    'topic_permissions',
    'parameters',
    'policies',
    'queues',
    'exchanges',
    'bindings',
  ]) {
    out[section] = canon(defs[section])
  }
  // Each node's acting user has its own random password; the cluster id is per node.
  out.users = canon(defs.users.map((u) => (u.name === 'evt' ? {...u, password_hash: ''} : u)))
  out.global_parameters = canon(defs.global_parameters.filter((p) => !String(p.name).startsWith('internal')))
  out.vhosts = canon(
    vhosts.map((v) => ({
      name: v.name,
      description: v.description,
      tags: [...((v.tags as string[]) ?? [])].sort(),
      default_queue_type: v.default_queue_type,
    })),
  )
  return out
}

async function importInto(api: ManagementClient, file: string): Promise<void> {
  // The raw bytes, BOM included, as a user would upload them.
  const res = await fetch(`${api.baseUrl}/api/definitions`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`evt:${new URL(importNode.managementUrl).password}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: await readFile(file),
  })
  expect(res.status, await res.text()).toBe(204)
}

describe('evt provision conforms to RabbitMQ import (corpus)', async () => {
  const accepted = (await readdir(CORPUS)).filter((f) => /^0\d-.*\.json$/.test(f)).sort()

  it.each(accepted)('%s: same definitions as the management import, then "No changes"', async (name) => {
    const file = join(CORPUS, name)
    const res = await evt(['--file', file, '--json'])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    await importInto(b, file)
    expect(await state(a)).toEqual(await state(b))

    const again = await evt(['--file', file])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toMatch(/No changes: all \d+ objects are up to date/)
  })

  it('amq.* objects are skipped with a note, not refused as a credentials problem', async () => {
    const res = await evt(['--file', join(CORPUS, '02-amq-and-defaults.json')])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    expect(res.stdout).toContain(
      'Skipped exchange legacy/amq.topic, exchange legacy/amq.direct, exchange legacy/amq.custom and 1 more: every vhost has the default and amq.* exchanges; RabbitMQ skips them on import.',
    )
    expect(res.stdout + res.stderr).not.toContain('credentials')
    const bindings = await a.get<Obj[]>('/exchanges/legacy/amq.topic/bindings/source')
    expect(bindings.map((x) => x.destination)).toEqual(['legacy.inbox'])
  })

  it('a federation upstream without the plugin: refused like RabbitMQ, before anything changes', async () => {
    const file = join(CORPUS, '90-rejected-federation.json')
    const res = await evt(['--file', file])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain(
      '$.parameters[0].component: parameter federated/federation-upstream/origin: needs the rabbitmq_federation plugin',
    )
    expect(await a.vhostExists('federated')).toBe(false)
    const refused = await b.post('/definitions', JSON.parse(await readFile(file, 'utf8'))).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ManagementHttpError)
    await b.deleteVhost('federated')
  })

  it('apply-to by queue type on 3.10: refused like RabbitMQ, before anything changes', async () => {
    const file = join(CORPUS, '91-rejected-apply-to.json')
    const res = await evt(['--file', file])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('$.policies[0].apply-to: policy newer-broker/stream-retention: apply-to "streams"')
    expect(await a.vhostExists('newer-broker')).toBe(false)
    const refused = await b.post('/definitions', JSON.parse(await readFile(file, 'utf8'))).catch((e: unknown) => e)
    expect((refused as ManagementHttpError).reason).toContain("apply-to 'streams' unrecognised")
    await b.deleteVhost('newer-broker')
  })

  it('a queue the broker refuses mid-apply: named with the reason and the count; a rerun continues', async () => {
    const file = join(CORPUS, '92-rejected-queue.json')
    const res = await evt(['--file', file])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain(
      "the broker refused to create queue refusals/work.broken: precondition_failed: invalid arg 'x-dead-letter-routing-key' for queue 'work.broken' in vhost 'refusals'",
    )
    // The vhost, the exchange and work.a went in; the refusal held back work.broken and both bindings.
    expect(res.stderr).toContain('3 of 6 object(s) were applied before it')
    expect(res.stderr).not.toContain('credentials')

    const fixed = join(home, 'fixed.json')
    const doc = JSON.parse(await readFile(file, 'utf8'))
    doc.queues[1].arguments['x-dead-letter-exchange'] = 'work'
    await writeFile(fixed, JSON.stringify(doc))
    const rerun = await evt(['--file', fixed, '--json'])
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    const out = JSON.parse(rerun.stdout)
    // Only what the failed run had not applied: the fixed queue and the two bindings.
    expect(out.counts).toMatchObject({created: 3, unchanged: 3})
  })
})
