#!/usr/bin/env node
// `npm run bench`: the project's own benchmark. Starts a private RabbitMQ node, runs evt (the BUILT CLI,
// bin/run.js, as child processes) and a raw amqplib baseline alternately on the same broker, and writes
// bench/results/<date>-<time>-<commit>.json (every run) and bench/BENCHMARKS.md (medians, ratios, goals).
//
//   npm run build && npm run bench
//   npm run bench -- --only publish,tail --count 20000 --runs 3
//   npm run bench -- --only tail-memory
//
// Sections: publish, replay, tail, bench, cold-start, up-down, provision, scenarios, container, cluster (default:
// all), tail-memory (1,000,000 messages; only when named). container needs a Docker engine (DOCKER_HOST) and
// EVT_IMAGE present in it; without them it is not run and BENCHMARKS.md keeps the earlier figures. See docs/bench.md.
import {execFile, execFileSync, spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = join(ROOT, 'bin', 'run.js')
const RAW_PUBLISHER = join(ROOT, 'bench', 'raw-publisher.js')
const RAW_CONSUMER = join(ROOT, 'bench', 'raw-consumer.js')
const RAW_BENCH = join(ROOT, 'bench', 'raw-bench.js')
const DEFAULT_SECTIONS = [
  'publish',
  'replay',
  'tail',
  'bench',
  'cold-start',
  'up-down',
  'provision',
  'scenarios',
  'container',
  'cluster',
]
const ALL_SECTIONS = [...DEFAULT_SECTIONS, 'tail-memory']

const {values: cli} = parseArgs({
  options: {
    only: {type: 'string'},
    count: {type: 'string', default: '100000'},
    runs: {type: 'string', default: '3'},
    'cold-runs': {type: 'string', default: '10'},
    'memory-count': {type: 'string', default: '1000000'},
    'provision-count': {type: 'string', default: '10000'},
    results: {type: 'string', default: join(ROOT, 'bench', 'results')},
    markdown: {type: 'string', default: join(ROOT, 'bench', 'BENCHMARKS.md')},
    'no-markdown': {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
})
if (cli.help) {
  console.log(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1, 11)
      .join('\n')
      .replace(/^\/\/ ?/gm, ''),
  )
  process.exit(0)
}
const COUNT = positiveInt('--count', cli.count)
const RUNS = positiveInt('--runs', cli.runs)
const COLD_RUNS = positiveInt('--cold-runs', cli['cold-runs'])
const MEMORY_COUNT = positiveInt('--memory-count', cli['memory-count'])
const PROVISION_COUNT = positiveInt('--provision-count', cli['provision-count'])
const sections = cli.only ? cli.only.split(',').map((s) => s.trim()) : DEFAULT_SECTIONS
for (const s of sections) {
  if (!ALL_SECTIONS.includes(s)) fatal(`unknown section "${s}"; sections: ${ALL_SECTIONS.join(', ')}`)
}
if (!existsSync(join(ROOT, 'dist', 'index.js')) || !existsSync(join(ROOT, 'oclif.manifest.json'))) {
  fatal('the CLI is not built: run `npm run build` first (the benchmark times the built CLI)')
}

const evtLib = await import(join(ROOT, 'dist', 'index.js'))
// Internals the bench needs but the library does not offer come from their own modules.
const {freePort} = await import(join(ROOT, 'dist', 'broker', 'probe.js'))
const {median, ratio} = await import(join(ROOT, 'dist', 'bench', 'stats.js'))
const {startBroker, ManagementClient, connectAmqp, withVhost, amqpAnswers, managementAnswers} = evtLib

const log = (msg) => process.stderr.write(`${msg}\n`)
const startedAt = new Date()
const home = await mkdtemp(join(os.tmpdir(), 'evt-bench-home-'))
const work = await mkdtemp(join(os.tmpdir(), 'evt-bench-work-'))

/** Every run of every pair, as written to the results file. */
const results = {
  date: startedAt.toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  settings: {
    count: COUNT,
    runs: RUNS,
    coldRuns: COLD_RUNS,
    memoryCount: MEMORY_COUNT,
    provisionCount: PROVISION_COUNT,
    sections,
  },
  machine: machineFacts(),
  versions: versions(),
  sections: {},
}

let broker
let exitCode = 0
const onSignal = () => {
  log('interrupted: stopping the private node')
  cleanup().finally(() => process.exit(130))
}

// ---------------------------------------------------------------------------------------------------
// Sections

async function cleanup() {
  process.removeListener('SIGINT', onSignal)
  process.removeListener('SIGTERM', onSignal)
  for (const name of ['bench-up', 'bench-scn', 'bench-ct', 'bench-cluster', 'bench-one']) {
    await evt(['down', '--name', name], {env: {EVT_HOME: home}, quiet: true}).catch(() => undefined)
  }
  if (broker) await broker.stop().catch(() => undefined)
  broker = undefined
  await rm(home, {recursive: true, force: true})
  await rm(work, {recursive: true, force: true})
}

const SECTIONS = {
  /** evt publish vs raw-publisher.js: persistent confirmed, and transient without confirms. */
  async publish() {
    await requireCommand('publish')
    const target = await orderTopology()
    const bodyFile = await catalogueBody(target)
    const variants = [
      {
        name: 'persistent, confirms (window 1000)',
        evtArgs: [],
        rawArgs: ['--window', '1000'],
      },
      {
        name: 'transient, no confirms',
        evtArgs: ['--transient', '--no-confirm'],
        rawArgs: ['--transient', '--no-confirm'],
      },
      // As a user times it: the whole process, start-up and envelope work included (the wall rate is the figure).
      {
        name: 'whole process, 30,000 persistent + confirms',
        count: 30_000,
        evtArgs: [],
        rawArgs: ['--window', '1000'],
      },
    ]
    const out = {}
    for (const v of variants) {
      log(`-- publish ${v.name}`)
      const count = v.count ?? COUNT
      out[v.name] = await alternate(
        async () => {
          await target.purge()
          const r = await evt(['publish', 'order.created', '--count', String(count), '--json', ...v.evtArgs], {
            env: brokerEnv(),
          })
          if (r.code !== 0) throw new Error(`evt publish exited ${r.code}: ${lastLine(r.stderr)}`)
          const summary = JSON.parse(r.stdout)
          const depth = await target.depth(count)
          return {
            rate: (count * 1000) / summary.durationMs,
            wallRate: (count * 1000) / r.ms,
            wallMs: r.ms,
            selfMs: summary.durationMs,
            queued: depth,
          }
        },
        async () => {
          await target.purge()
          const r = await rawPublish(target, bodyFile, count, v.rawArgs)
          const summary = r.summary
          const depth = await target.depth(count)
          return {
            rate: (count * 1000) / summary.ms,
            wallRate: (count * 1000) / r.ms,
            wallMs: r.ms,
            selfMs: summary.ms,
            queued: depth,
          }
        },
      )
    }
    await target.close()
    return out
  },

  /** evt publish --from a COUNT-message recording vs raw-publisher.js on the same body, persistent + confirms. */
  async replay() {
    await requireCommand('publish')
    const target = await orderTopology()
    const bodyFile = await catalogueBody(target)
    const body = (await readFile(bodyFile, 'utf8')).trim()
    const recording = join(work, 'recording.ndjson')
    const head = (i) =>
      `{"seq":${i},"receivedAt":"2026-01-01T00:00:00.000Z","vhost":${JSON.stringify(target.vhost)},"exchange":${JSON.stringify(
        target.exchange,
      )},"routingKey":${JSON.stringify(target.routingKey)},"redelivered":false,"tap":"bench","properties":{"contentType":"application/json","deliveryMode":2},"headers":{},"size":${Buffer.byteLength(body)},"bodyEncoding":"json","body":`
    const lines = []
    for (let i = 1; i <= COUNT; i++) lines.push(`${head(i)}${body}}`)
    await writeFile(recording, `${lines.join('\n')}\n`)
    const result = await alternate(
      async () => {
        await target.purge()
        const r = await evt(['publish', '--from', recording, '--json'], {env: brokerEnv()})
        if (r.code !== 0) throw new Error(`evt publish --from exited ${r.code}: ${lastLine(r.stderr)}`)
        const summary = JSON.parse(r.stdout)
        await target.depth(COUNT)
        return {rate: (COUNT * 1000) / summary.durationMs, wallRate: (COUNT * 1000) / r.ms, wallMs: r.ms}
      },
      async () => {
        await target.purge()
        const r = await rawPublish(target, bodyFile, COUNT, ['--window', '1000'])
        await target.depth(COUNT)
        return {rate: (COUNT * 1000) / r.summary.ms, wallRate: (COUNT * 1000) / r.ms, wallMs: r.ms}
      },
    )
    await target.close()
    return {'publish --from a recording': result}
  },

  /** evt tail --json (consuming a filled queue) to a pipe vs raw-consumer.js --print to a pipe. */
  async tail() {
    await requireCommand('tail')
    const target = await orderTopology()
    const bodyFile = await catalogueBody(target)
    const fill = async () => {
      await target.purge()
      await rawPublish(target, bodyFile, COUNT)
      await target.depth(COUNT)
    }
    const result = await alternate(
      async () => {
        await fill()
        const r = await evt(
          ['tail', '--vhost', target.vhost, '--queue', target.queue, '--consume', '--count', String(COUNT), '--json'],
          {env: brokerEnv(), countLines: true},
        )
        if (r.code !== 0) throw new Error(`evt tail exited ${r.code}: ${lastLine(r.stderr)}`)
        if (r.lines !== COUNT) throw new Error(`evt tail printed ${r.lines} lines, expected ${COUNT}`)
        return linesRate(r)
      },
      async () => {
        await fill()
        const r = await node(
          RAW_CONSUMER,
          [
            '--url',
            target.url,
            '--queue',
            target.queue,
            '--count',
            String(COUNT),
            '--prefetch',
            '1000',
            '--multi-ack',
            '100',
            '--print',
          ],
          {countLines: true},
        )
        if (r.code !== 0) throw new Error(`raw-consumer exited ${r.code}: ${lastLine(r.stderr)}`)
        if (r.lines !== COUNT) throw new Error(`raw-consumer printed ${r.lines} lines, expected ${COUNT}`)
        return linesRate(r)
      },
    )
    await target.close()
    return {'tail --json to a pipe': result}
  },

  /** evt bench vs bench/raw-bench.js (the same work in one process with bare amqplib), same settings. */
  async bench() {
    await requireCommand('bench')
    const variants = [
      {
        name: 'persistent, confirms 1000',
        evtArgs: ['--persistent', '--confirm', '1000'],
        rawArgs: ['--persistent', '--confirm', '1000'],
      },
      {name: 'transient, no confirms', evtArgs: [], rawArgs: []},
    ]
    const api = new ManagementClient(broker.managementUrl)
    const vhost = 'bench-raw'
    await api.createVhost(vhost)
    const url = withVhost(broker.amqpUrl, vhost)
    const common = ['--count', String(COUNT), '--size', '600', '--prefetch', '1000', '--multi-ack', '100']
    const out = {}
    for (const v of variants) {
      log(`-- bench ${v.name}`)
      out[v.name] = await alternate(
        async () => {
          const r = await evt(['bench', ...common, '--json', ...v.evtArgs], {env: brokerEnv()})
          if (r.code !== 0) throw new Error(`evt bench exited ${r.code}: ${lastLine(r.stderr)}`)
          const report = JSON.parse(r.stdout)
          if (report.counts.consumed !== COUNT)
            throw new Error(`evt bench consumed ${report.counts.consumed} of ${COUNT}`)
          return {
            publishRate: report.rates.publish,
            consumeRate: report.rates.consume,
            p99Ms: report.latency.p99,
            wallMs: r.ms,
          }
        },
        async () => {
          const r = await node(RAW_BENCH, ['--url', url, ...common, ...v.rawArgs])
          if (r.code !== 0) throw new Error(`raw-bench exited ${r.code}: ${lastLine(r.stderr)}`)
          const p = JSON.parse(lastLine(r.stdout))
          return {publishRate: p.publishRate, consumeRate: p.consumeRate, wallMs: r.ms}
        },
      )
    }
    await api.deleteVhost(vhost)
    return out
  },

  /** evt --version and evt events against node -e 0, cold each time. */
  async 'cold-start'() {
    const out = {}
    const plain = {env: {EVT_HOME: home}}
    for (const [name, args] of [
      ['evt --version', ['--version']],
      ['evt events', ['events']],
    ]) {
      if (name === 'evt events') await requireCommand('events')
      log(`-- ${name}`)
      await evt(args, plain) // warm the file cache once, as a second invocation would
      await node('-e', ['0'])
      out[name] = await alternate(
        async () => {
          const r = await evt(args, plain)
          if (r.code !== 0) throw new Error(`${name} exited ${r.code}: ${lastLine(r.stderr)}`)
          return {seconds: r.ms / 1000}
        },
        async () => ({seconds: (await node('-e', ['0'])).ms / 1000}),
        COLD_RUNS,
      )
    }
    return out
  },

  /** evt up (local runtime) to ready vs a bare rabbitmq-server to ready; evt down. */
  async 'up-down'() {
    const env = {EVT_HOME: home}
    const downs = []
    const result = await alternate(
      async () => {
        const up = await evt(['up', '--runtime', 'local', '--name', 'bench-up', '--json'], {env})
        if (up.code !== 0) throw new Error(`evt up exited ${up.code}: ${lastLine(up.stderr)}`)
        const down = await evt(['down', '--name', 'bench-up', '--json'], {env})
        if (down.code !== 0) throw new Error(`evt down exited ${down.code}: ${lastLine(down.stderr)}`)
        downs.push(down.ms / 1000)
        // The same without applying the seed topology: how much of the difference provisioning is.
        const bare = await evt(['up', '--runtime', 'local', '--name', 'bench-up', '--no-provision', '--json'], {env})
        if (bare.code !== 0) throw new Error(`evt up --no-provision exited ${bare.code}: ${lastLine(bare.stderr)}`)
        await evt(['down', '--name', 'bench-up'], {env, quiet: true})
        return {seconds: up.ms / 1000, noProvisionSeconds: bare.ms / 1000, downSeconds: down.ms / 1000}
      },
      async () => {
        const bare = await startBareNodeModule()
        const started = await bare.startBareNode({freePort, amqpAnswers, managementAnswers})
        await started.stop()
        return {seconds: started.readyMs / 1000}
      },
    )
    return {'up to ready': result, down: {runs: downs, median: median(downs)}}
  },

  /**
   * evt provision of a file with PROVISION_COUNT queues and as many bindings into an empty vhost, against the
   * management API's own import (POST /api/definitions) of the same file; then evt's no-op rerun.
   */
  async provision() {
    await requireCommand('provision')
    const vhost = 'bench-provision'
    const defs = {
      vhosts: [{name: vhost}],
      exchanges: [
        {name: 'bench.x', vhost, type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {}},
      ],
      queues: [],
      bindings: [],
    }
    for (let i = 0; i < PROVISION_COUNT; i++) {
      const name = `bench.q.${i}`
      defs.queues.push({name, vhost, durable: true, auto_delete: false, arguments: {'x-message-ttl': 60_000}})
      defs.bindings.push({
        source: 'bench.x',
        vhost,
        destination: name,
        destination_type: 'queue',
        routing_key: `k.${i}.#`,
        arguments: {},
      })
    }
    const file = join(work, 'provision-bench.json')
    await writeFile(file, JSON.stringify(defs))
    // Each run gets a fresh node: deleting a vhost of 10,000 queues takes minutes, stopping a node does not.
    let runs = 0
    const onFreshNode = async (work) => {
      const node = await startBroker({runtime: 'local', name: `bench-provision-${++runs}`})
      try {
        const api = new ManagementClient(node.managementUrl, 600_000)
        const result = await work(node, api)
        const queues = await api.get(`/queues/${encodeURIComponent(vhost)}?columns=name`)
        if (queues.length !== PROVISION_COUNT) throw new Error(`${queues.length} queues, expected ${PROVISION_COUNT}`)
        return result
      } finally {
        await node.stop()
      }
    }
    const result = await alternate(
      () =>
        onFreshNode(async (node) => {
          const env = {RABBITMQ_URL: node.amqpUrl, RABBITMQ_MANAGEMENT_URL: node.managementUrl, EVT_HOME: home}
          const r = await evt(['provision', '--file', file, '--json'], {env})
          if (r.code !== 0) throw new Error(`evt provision exited ${r.code}: ${lastLine(r.stderr)}`)
          const again = await evt(['provision', '--file', file, '--json'], {env})
          if (again.code !== 0 || JSON.parse(again.stdout).changed) {
            throw new Error('the rerun of evt provision was not a no-op')
          }
          return {seconds: r.ms / 1000, noopSeconds: again.ms / 1000}
        }),
      () =>
        onFreshNode(async (_node, api) => {
          const started = performance.now()
          await api.post('/definitions', defs)
          return {seconds: (performance.now() - started) / 1000}
        }),
    )
    return {'provision 10k': result}
  },

  /** evt scenario --all on an `evt up` broker: concurrent (the default) against --concurrency 1. */
  async scenarios() {
    await requireCommand('scenario')
    const env = {EVT_HOME: home}
    const up = await evt(['up', '--runtime', 'local', '--name', 'bench-scn', '--no-provision', '--json'], {env})
    if (up.code !== 0) throw new Error(`evt up exited ${up.code}: ${lastLine(up.stderr)}`)
    const run = async (extra) => {
      const r = await evt(['scenario', '--all', '--name', 'bench-scn', '--json', ...extra], {env})
      if (r.code !== 0) throw new Error(`evt scenario --all ${extra.join(' ')} exited ${r.code}: ${lastLine(r.stderr)}`)
      return {seconds: r.ms / 1000, scenarios: JSON.parse(r.stdout).totals.scenarios}
    }
    try {
      return {
        'scenario --all': await alternate(
          () => run([]),
          () => run(['--concurrency', '1']),
        ),
      }
    } finally {
      await evt(['down', '--name', 'bench-scn'], {env, quiet: true})
    }
  },

  /**
   * `evt up --runtime container --no-provision` to ready vs a bare `docker run` of the same image (same published
   * ports on loopback, same credentials variables) until AMQP and management answer; `evt down` of that container.
   */
  async container() {
    const api = await import(join(ROOT, 'dist', 'broker', 'docker-api.js'))
    const image = process.env.EVT_IMAGE
    const where = api.dockerEndpoint().address
    if (!image) return notRun('EVT_IMAGE is not set (the image to run)')
    if (!(await api.dockerAnswers())) return notRun(`no Docker engine answers at ${where}`)
    if (!(await api.imagePresent(image))) return notRun(`image ${image} is not in Docker at ${where}`)
    results.versions.image = image
    results.versions.engine = await api.engineVersion()
    const env = {EVT_HOME: home, EVT_IMAGE: image}
    const downs = []
    const result = await alternate(
      async () => {
        const up = await evt(['up', '--runtime', 'container', '--name', 'bench-ct', '--no-provision', '--json'], {env})
        if (up.code !== 0) throw new Error(`evt up exited ${up.code}: ${lastLine(up.stderr)}`)
        const down = await evt(['down', '--name', 'bench-ct', '--json'], {env})
        if (down.code !== 0) throw new Error(`evt down exited ${down.code}: ${lastLine(down.stderr)}`)
        downs.push(down.ms / 1000)
        return {seconds: up.ms / 1000, downSeconds: down.ms / 1000}
      },
      async () => {
        const [amqp, mgmt] = [await freePort(), await freePort()]
        const started = performance.now()
        const id = (
          await sh('docker', [
            'run',
            '-d',
            '-p',
            `127.0.0.1:${amqp}:5672`,
            '-p',
            `127.0.0.1:${mgmt}:15672`,
            '-e',
            'RABBITMQ_DEFAULT_USER=bench',
            '-e',
            'RABBITMQ_DEFAULT_PASS=bench',
            image,
          ])
        ).trim()
        try {
          for (;;) {
            if (
              (await amqpAnswers('127.0.0.1', amqp, 500)) &&
              (await managementAnswers(`http://bench:bench@127.0.0.1:${mgmt}`, 1000))
            )
              break
            if (performance.now() - started > 180_000) throw new Error('bare docker run: not ready in 180 s')
            await sleep(100)
          }
          return {seconds: (performance.now() - started) / 1000}
        } finally {
          await sh('docker', ['rm', '-f', '-v', id]).catch(() => undefined)
        }
      },
    )
    return {'up to ready': result, down: {runs: downs, median: median(downs)}}
  },

  /**
   * A 3-node local cluster (`evt up --nodes 3 --no-provision`) to ready (all nodes up, cluster formed,
   * management answering) vs one node's `evt up --no-provision`, alternately; in the first run also the
   * cluster's memory at rest (RSS of its VMs and epmd, 10 s after ready) and `evt scenario quorum-failover`.
   */
  async cluster() {
    const env = {EVT_HOME: home}
    let rest
    let failover
    const runs = Math.min(RUNS, 3)
    const result = await alternate(
      async () => {
        const up = await evt(
          ['up', '--runtime', 'local', '--nodes', '3', '--name', 'bench-cluster', '--no-provision', '--json'],
          {env},
        )
        if (up.code !== 0) throw new Error(`evt up --nodes 3 exited ${up.code}: ${lastLine(up.stderr)}`)
        const cpuSeconds = cpuSecondsOf(processesWithEnv('RABBITMQ_NODENAME=evt-bench-cluster-'))
        if (!rest) {
          await sleep(10_000)
          const pids = processesWithEnv('RABBITMQ_NODENAME=evt-bench-cluster-')
          rest = {processes: pids.length, rssMb: pids.reduce((n, p) => n + (rssMb(p) ?? 0), 0)}
          log(`   memory at rest: ${rest.rssMb} MB over ${rest.processes} processes`)
          const sc = await evt(['scenario', 'quorum-failover', '--name', 'bench-cluster', '--json'], {env})
          let report
          try {
            report = JSON.parse(sc.stdout)
          } catch {
            report = undefined
          }
          const r = report?.scenarios?.[0]
          const note = (r?.notes ?? []).join(' ')
          failover = {
            status: r?.status ?? `exit ${sc.code}`,
            seconds: sc.ms / 1000,
            newLeaderSeconds: Number(/after ([\d.]+) s/.exec(note)?.[1]),
            resumeSeconds: Number(/resumed ([\d.-]+) s after/.exec(note)?.[1]),
            notes: r?.notes ?? [lastLine(sc.stderr)],
          }
          log(
            `   quorum-failover: ${failover.status} in ${failover.seconds.toFixed(1)} s (new leader ${failover.newLeaderSeconds} s)`,
          )
        }
        const down = await evt(['down', '--name', 'bench-cluster', '--json'], {env})
        if (down.code !== 0) throw new Error(`evt down exited ${down.code}: ${lastLine(down.stderr)}`)
        return {seconds: up.ms / 1000, downSeconds: down.ms / 1000, cpuSeconds}
      },
      async () => {
        const up = await evt(['up', '--runtime', 'local', '--name', 'bench-one', '--no-provision', '--json'], {env})
        if (up.code !== 0) throw new Error(`evt up exited ${up.code}: ${lastLine(up.stderr)}`)
        const cpuSeconds = cpuSecondsOf(processesWithEnv('RABBITMQ_NODENAME=evt-bench-one-'))
        await evt(['down', '--name', 'bench-one'], {env, quiet: true})
        return {seconds: up.ms / 1000, cpuSeconds}
      },
      runs,
    )
    return {'cluster to ready': result, rest, failover}
  },

  /** RSS of evt tail --json over MEMORY_COUNT messages, fed by raw-publisher.js while it runs. */
  async 'tail-memory'() {
    await requireCommand('tail')
    const target = await orderTopology()
    const bodyFile = await catalogueBody(target)
    await target.purge()
    const child = startEvt(
      [
        'tail',
        '--vhost',
        target.vhost,
        '--queue',
        target.queue,
        '--consume',
        '--count',
        String(MEMORY_COUNT),
        '--json',
      ],
      {env: brokerEnv(), countLines: true},
    )
    await sleep(1500) // let it connect before the feed starts
    const samples = []
    const sampler = setInterval(() => {
      const rss = rssMb(child.pid)
      if (rss !== undefined)
        samples.push({t: Math.round(performance.now() - child.startedAt), lines: child.lines(), rssMb: rss})
    }, 1000)
    const feed = (await rawPublish(target, bodyFile, MEMORY_COUNT)).summary
    const r = await child.done
    clearInterval(sampler)
    await target.close()
    if (r.code !== 0) throw new Error(`evt tail exited ${r.code}: ${lastLine(r.stderr)}`)
    const moving = samples.filter((s) => s.lines > 0)
    const startRss = (moving[0] ?? samples[0])?.rssMb
    const endRss = samples.at(-1)?.rssMb
    const peakRss = Math.max(...samples.map((s) => s.rssMb))
    return {
      messages: r.lines,
      seconds: r.ms / 1000,
      feedRate: feed.rate,
      startRssMb: startRss,
      peakRssMb: peakRss,
      endRssMb: endRss,
      // "Flat": the peak stays within 64 MB of where it was once messages were flowing.
      flat: peakRss - startRss <= 64,
      samples,
    }
  },
}

// ---------------------------------------------------------------------------------------------------
// Pairs, medians, ratios

/** Run a (evt) and b (baseline) alternately, `runs` times each; medians of every numeric figure. */
async function alternate(a, b, runs = RUNS) {
  const evtRuns = []
  const baseRuns = []
  for (let i = 0; i < runs; i++) {
    evtRuns.push(await a())
    baseRuns.push(await b())
    log(`   run ${i + 1}/${runs}: evt ${brief(evtRuns.at(-1))} | baseline ${brief(baseRuns.at(-1))}`)
  }
  return {evt: {runs: evtRuns, median: medians(evtRuns)}, baseline: {runs: baseRuns, median: medians(baseRuns)}}
}

function medians(runs) {
  const out = {}
  for (const key of Object.keys(runs[0] ?? {})) {
    if (typeof runs[0][key] === 'number') out[key] = median(runs.map((r) => r[key]))
  }
  return out
}

function brief(run) {
  return Object.entries(run)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(' ')
}

/** The rows of the summary: one per goal. */
function summaryRows(r) {
  const rows = []
  const s = r.sections
  let current
  const push = (row) => rows.push({...row, section: current, from: r.from?.[current]})
  const rate = (sec, variant, key, what, goal) => {
    current = sec
    const x = s[sec]?.[variant]
    if (!x) return push({what, error: s[sec]?.error ?? 'not run'})
    const e = x.evt.median[key]
    const b = x.baseline.median[key]
    const q = ratio(e, b)
    push({
      what,
      evt: `${fmtInt(e)} msg/s`,
      baseline: `${fmtInt(b)} msg/s`,
      ratio: q,
      goal: `≥ ${goal}×`,
      pass: q >= goal,
    })
  }
  rate(
    'publish',
    'persistent, confirms (window 1000)',
    'rate',
    '`evt publish` persistent + confirms vs raw amqplib',
    0.9,
  )
  rate('publish', 'transient, no confirms', 'rate', '`evt publish` transient, no confirms vs raw amqplib', 0.9)
  rate(
    'publish',
    'whole process, 30,000 persistent + confirms',
    'wallRate',
    '`evt publish order.created --count 30000` as a whole process (start-up included) vs a raw amqplib process',
    0.95,
  )
  rate(
    'replay',
    'publish --from a recording',
    'rate',
    '`evt publish --from` a recording vs raw amqplib (same messages)',
    0.9,
  )
  rate('tail', 'tail --json to a pipe', 'rate', '`evt tail --json` to a pipe vs raw consumer', 0.95)
  for (const v of ['persistent, confirms 1000', 'transient, no confirms']) {
    rate('bench', v, 'publishRate', `\`evt bench\` publish rate (${v}) vs raw clients`, 0.9)
    rate('bench', v, 'consumeRate', `\`evt bench\` consume rate (${v}) vs raw clients`, 0.9)
  }
  current = 'cold-start'
  for (const name of ['evt --version', 'evt events']) {
    const x = s['cold-start']?.[name]
    if (!x) {
      push({what: `\`${name}\` cold start`, error: s['cold-start']?.error ?? 'not run'})
      continue
    }
    const e = x.evt.median.seconds
    push({
      what: `\`${name}\` cold start (baseline: \`node -e 0\`)`,
      evt: `${e.toFixed(3)} s`,
      baseline: `${x.baseline.median.seconds.toFixed(3)} s`,
      ratio: ratio(e, x.baseline.median.seconds),
      goal: '≤ 0.45 s',
      pass: e <= 0.45,
    })
  }
  current = 'up-down'
  const ud = s['up-down']
  if (ud?.['up to ready']) {
    const e = ud['up to ready'].evt.median.seconds
    const b = ud['up to ready'].baseline.median.seconds
    const q = ratio(e, b)
    push({
      what: '`evt up` (local) to ready vs bare `rabbitmq-server`',
      evt: `${e.toFixed(2)} s`,
      baseline: `${b.toFixed(2)} s`,
      ratio: q,
      goal: '≤ 1.15×',
      pass: q <= 1.15,
    })
    const np = ud['up to ready'].evt.median.noProvisionSeconds
    if (np !== undefined) {
      push({
        what: '`evt up --no-provision` (local) to ready vs bare `rabbitmq-server` (for information)',
        evt: `${np.toFixed(2)} s`,
        baseline: `${b.toFixed(2)} s`,
        ratio: ratio(np, b),
        goal: '–',
        pass: undefined,
      })
    }
    push({
      what: '`evt down` of a throwaway node',
      evt: `${ud.down.median.toFixed(2)} s`,
      baseline: '',
      ratio: Number.NaN,
      goal: '≤ 1 s',
      pass: ud.down.median <= 1,
    })
  } else push({what: '`evt up` / `evt down`', error: ud?.error ?? 'not run'})
  current = 'provision'
  const pv = s.provision?.['provision 10k']
  if (pv) {
    const n = fmtInt(r.settings?.provisionCount ?? 10_000)
    const e = pv.evt.median.seconds
    const b = pv.baseline.median.seconds
    const q = ratio(e, b)
    push({
      what: `\`evt provision\` ${n} queues + ${n} bindings vs the management API's import (POST /api/definitions)`,
      evt: `${e.toFixed(1)} s`,
      baseline: `${b.toFixed(1)} s`,
      ratio: q,
      goal: '≤ 1.5×',
      pass: q <= 1.5,
    })
    push({
      what: `\`evt provision\` rerun of the same ${n}-queue file (no changes)`,
      evt: `${pv.evt.median.noopSeconds.toFixed(2)} s`,
      baseline: '',
      ratio: Number.NaN,
      goal: '–',
      pass: undefined,
    })
  } else push({what: '`evt provision` 10,000 queues vs the management import', error: s.provision?.error ?? 'not run'})
  current = 'scenarios'
  const sc = s.scenarios?.['scenario --all']
  if (sc) {
    const e = sc.evt.median.seconds
    const b = sc.baseline.median.seconds
    push({
      what: `\`evt scenario --all\` (${sc.evt.median.scenarios} scenarios) on an \`evt up\` broker vs the same with \`--concurrency 1\``,
      evt: `${e.toFixed(1)} s`,
      baseline: `${b.toFixed(1)} s`,
      ratio: ratio(e, b),
      goal: '≤ 12 s',
      pass: e <= 12,
    })
  } else push({what: '`evt scenario --all` concurrent vs sequential', error: s.scenarios?.error ?? 'not run'})
  current = 'container'
  const ct = s.container
  if (ct?.['up to ready']) {
    const e = ct['up to ready'].evt.median.seconds
    const b = ct['up to ready'].baseline.median.seconds
    const q = ratio(e, b)
    push({
      what: `\`evt up --runtime container --no-provision\` to ready vs bare \`docker run\` of the same image (${r.versions?.image ?? 'EVT_IMAGE'})`,
      evt: `${e.toFixed(2)} s`,
      baseline: `${b.toFixed(2)} s`,
      ratio: q,
      goal: '≤ 1.15×',
      pass: q <= 1.15,
    })
    push({
      what: '`evt down` of a container',
      evt: `${ct.down.median.toFixed(2)} s`,
      baseline: '',
      ratio: Number.NaN,
      goal: '≤ 1.5 s',
      pass: ct.down.median <= 1.5,
    })
  } else push({what: '`evt up` / `evt down` on a container', error: ct?.notRun ?? ct?.error ?? 'not run'})
  current = 'cluster'
  const cl = s.cluster
  if (cl?.['cluster to ready']) {
    const e = cl['cluster to ready'].evt.median.seconds
    const b = cl['cluster to ready'].baseline.median.seconds
    const q = ratio(e, b)
    push({
      what: '`evt up --nodes 3` (local cluster) to ready vs one node `evt up` (both --no-provision)',
      evt: `${e.toFixed(2)} s`,
      baseline: `${b.toFixed(2)} s`,
      ratio: q,
      goal: '≤ 1.6×',
      pass: q <= 1.6,
    })
    const ce = cl['cluster to ready'].evt.median.cpuSeconds
    const cb = cl['cluster to ready'].baseline.median.cpuSeconds
    if (ce !== undefined && cb !== undefined) {
      const cores = os.cpus().length
      // Booting is CPU-bound: the cluster cannot be ready before its boot CPU is spread over every core.
      const floor = ce / cores / b
      push({
        what: `boot CPU (user + system of the nodes' processes, at ready): 3-node cluster vs one node; the cluster's CPU over ${cores} cores alone is ${floor.toFixed(2)}× one node's start`,
        evt: `${ce.toFixed(1)} s`,
        baseline: `${cb.toFixed(1)} s`,
        ratio: ratio(ce, cb),
        goal: '–',
        pass: undefined,
      })
    }
    if (cl.rest) {
      push({
        what: `3-node cluster memory at rest (RSS of ${cl.rest.processes} processes, 10 s after ready)`,
        evt: `${cl.rest.rssMb} MB`,
        baseline: '',
        ratio: Number.NaN,
        goal: '–',
        pass: undefined,
      })
    }
    if (cl.failover) {
      push({
        what: `\`evt scenario quorum-failover\` (${cl.failover.status}; new leader after ${cl.failover.newLeaderSeconds} s, publishing resumed after ${cl.failover.resumeSeconds} s)`,
        evt: `${cl.failover.seconds.toFixed(1)} s`,
        baseline: '',
        ratio: Number.NaN,
        goal: '≤ 40 s, passed',
        pass: cl.failover.seconds <= 40 && cl.failover.status === 'passed',
      })
    }
  } else push({what: '`evt up --nodes 3`', error: cl?.error ?? 'not run'})
  current = 'tail-memory'
  const mem = s['tail-memory']
  if (mem && !mem.error) {
    push({
      what: `\`evt tail --json\` RSS over ${fmtInt(mem.messages)} messages (start / peak / end)`,
      evt: `${mem.startRssMb} / ${mem.peakRssMb} / ${mem.endRssMb} MB`,
      baseline: '',
      ratio: Number.NaN,
      goal: 'flat (peak ≤ start + 64 MB)',
      pass: mem.flat,
    })
  } else
    push({
      what: '`evt tail --json` memory over 1,000,000 messages',
      error: mem?.error ?? 'not run (`--only tail-memory`)',
    })
  return rows
}

/**
 * Sections not run this time (`--only`) are filled from the newest earlier results file that ran them
 * with the same message counts, so a partial run does not blank the rest of BENCHMARKS.md.
 */
async function withEarlierRuns(current, currentFile) {
  const merged = {...current, sections: {...current.sections}, from: {}}
  const missing = ALL_SECTIONS.filter((sec) => !current.sections[sec] || current.sections[sec].error)
  if (missing.length === 0) return merged
  const files = (await readdir(cli.results))
    .filter((f) => f.endsWith('.json') && join(cli.results, f) !== currentFile)
    .sort()
    .reverse()
  for (const file of files) {
    let earlier
    try {
      earlier = JSON.parse(await readFile(join(cli.results, file), 'utf8'))
    } catch {
      continue
    }
    for (const sec of missing) {
      if (merged.from[sec] || current.sections[sec]?.error) continue
      const data = earlier.sections?.[sec]
      const sameSize =
        sec === 'tail-memory'
          ? earlier.settings?.memoryCount === current.settings.memoryCount
          : earlier.settings?.count === current.settings.count
      if (data && !data.error && sameSize) {
        merged.sections[sec] = data
        merged.from[sec] = file
      }
    }
  }
  return merged
}

function markdown(r, rows, resultsPath) {
  const m = r.machine
  const v = r.versions
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`${r.command}\` on ${r.date.slice(0, 16).replace('T', ' ')} UTC (commit ${v.commit || 'unknown'}). Raw runs: [${resultsPath}](${resultsPath}).`,
    '',
    `Each pair ran alternately on the same private RabbitMQ node in the same run: ${r.settings.runs} run${r.settings.runs === 1 ? '' : 's'} each (cold start: ${r.settings.coldRuns}); figures are medians; ratio = evt / baseline. Messages per run: ${fmtInt(r.settings.count)}.`,
    '',
    '| benchmark | evt | baseline | ratio | goal | |',
    '|---|---:|---:|---:|---|---|',
    ...rows.map((row) =>
      row.error
        ? `| ${row.what} | – | – | – | – | ${row.error === 'not run' || row.error.startsWith('not run') ? row.error : `FAILED: ${row.error.replace(/\|/g, '\\|')}`} |`
        : `| ${row.what} | ${row.evt} | ${row.baseline || '–'} | ${Number.isNaN(row.ratio) ? '–' : `${row.ratio.toFixed(2)}×`} | ${row.goal} | ${row.pass === undefined ? '' : row.pass ? 'pass' : '**miss**'}${row.from ? ` (earlier run: ${row.from})` : ''} |`,
    ),
    '',
    '## Machine and versions',
    '',
    `- CPU: ${m.cpu} × ${m.cores} cores; memory ${m.memoryGb} GB; ${m.os}`,
    `- Node ${v.node}, amqplib ${v.amqplib}, evt ${v.evt}, RabbitMQ ${v.rabbitmq ?? '–'}, Erlang ${v.erlang ?? '–'}`,
    '',
    '## How each figure is taken',
    '',
    '- **publish**: `evt publish order.created --count N --json` (persistent with a confirm window of 1000; and `--transient --no-confirm`) against `bench/raw-publisher.js` with the same catalogue body, exchange, routing key and settings (`noDelay`). Rate = N / the time each reports for itself; the wall-clock rate (including process start) is in the raw results. The whole-process row publishes 30,000 messages and divides by the wall-clock time of each process, start-up included. The queue depth is checked after every run.',
    '- **tail**: the queue is filled with N messages, then `evt tail --queue Q --consume --count N --json` and `bench/raw-consumer.js --print` (prefetch 1000, multiple-ack every 100) each write one line per message to a pipe; rate = lines from the first to the last line on that pipe.',
    '- **bench**: `evt bench --count N --size 600 --prefetch 1000 --multi-ack 100` against `bench/raw-bench.js`: the same work in one process with bare amqplib (one producer and one consumer connection, a durable direct exchange and classic queue), rates measured the same way (from the first publish to the last publish, and to the last delivery).',
    '- **cold start**: wall-clock time of the process, after one warm-up run.',
    '- **up / down**: `evt up --runtime local` until it exits (node ready, topology applied) against `bench/bare-node.js` (rabbitmq-server with its own dir, ports and management plugin) until AMQP and management answer; `evt down` until it exits.',
    '- **container**: `evt up --runtime container --no-provision` until it exits (container ready: AMQP and management answer) against `docker run -d` of the same image with the same two ports published on loopback, polled every 100 ms until AMQP and management answer, alternately; `evt down` until it exits. Needs `DOCKER_HOST` and `EVT_IMAGE` (see docs/containers.md).',
    "- **cluster**: `evt up --runtime local --nodes 3 --no-provision` until it exits (every member up and clustered, management answering) against one node's `evt up --runtime local --no-provision`, alternately. Boot CPU is the user + system time of the nodes' processes (Erlang VMs, their epmd) read from /proc when `evt up` exits. Booting a node is CPU-bound (it loads and JIT-compiles about 1,000 modules), so a cluster cannot be ready before its boot CPU has been spread over every core: on a machine with fewer cores than nodes, that floor, not evt, decides the ratio.",
    '- **tail memory** (`--only tail-memory`): RSS of the `evt tail` process, sampled every second while raw-publisher.js feeds the queue.',
    '',
    'The machine is a 2-core box shared by the broker and both clients: absolute rates vary between runs; the ratios are what the goals are about.',
    '',
  ]
  return lines.join('\n')
}

function plainTable(rows) {
  return rows
    .map((r) =>
      r.error
        ? `${strip(r.what)}: ${r.error}`
        : `${strip(r.what)}: evt ${r.evt}${r.baseline ? `, baseline ${r.baseline}` : ''}${Number.isNaN(r.ratio) ? '' : `, ratio ${r.ratio.toFixed(2)}`} (goal ${r.goal}) ${r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS'}${r.from ? ` [earlier run: ${r.from}]` : ''}`,
    )
    .join('\n')
}

// ---------------------------------------------------------------------------------------------------
// Broker helpers

function brokerEnv() {
  return {RABBITMQ_URL: broker.amqpUrl, RABBITMQ_MANAGEMENT_URL: broker.managementUrl, EVT_HOME: home}
}

/**
 * Where `evt publish order.created` sends (from the built catalogue), with one durable classic queue bound
 * to it, so both publishers land in the same single queue.
 */
async function orderTopology() {
  const {loadCatalogue} = await import(join(ROOT, 'dist', 'catalogue', 'catalogue.js'))
  const type = loadCatalogue().resolve('order.created')[0]
  const api = new ManagementClient(broker.managementUrl)
  await api.createVhost(type.vhost)
  const url = withVhost(broker.amqpUrl, type.vhost)
  const conn = await connectAmqp(url)
  const ch = await conn.createChannel()
  const queue = 'bench.orders'
  await ch.assertExchange(type.exchange, 'topic', {durable: true})
  await ch.assertQueue(queue, {durable: true, arguments: {'x-queue-type': 'classic'}})
  await ch.bindQueue(queue, type.exchange, type.routingKey.replace(/\{[^}]*\}/g, '*'))
  return {
    type,
    vhost: type.vhost,
    exchange: type.exchange,
    routingKey: type.routingKey,
    queue,
    url,
    purge: async () => {
      await ch.purgeQueue(queue)
    },
    /** Wait (up to 30 s) until the queue holds `expected` messages; returns the depth seen. */
    depth: async (expected) => {
      const deadline = Date.now() + 30_000
      let n = 0
      while (Date.now() < deadline) {
        n = (await ch.checkQueue(queue)).messageCount
        if (n >= expected) return n
        await sleep(100)
      }
      throw new Error(`the queue holds ${n} messages, expected ${expected}`)
    },
    close: () => conn.close(),
  }
}

/** One catalogue body for the raw publisher (written once). */
async function catalogueBody(target) {
  const file = join(work, 'order.created.json')
  if (!existsSync(file)) {
    const {generateEvent} = await import(join(ROOT, 'dist', 'catalogue', 'generate.js'))
    const event = await generateEvent(target.type, {seed: 1})
    await writeFile(file, event.body)
  }
  return file
}

/** raw-publisher.js on the target; transient without confirms unless other args are given. */
async function rawPublish(target, bodyFile, count, args = ['--transient', '--no-confirm']) {
  const r = await node(RAW_PUBLISHER, [
    '--url',
    target.url,
    '--exchange',
    target.exchange,
    '--routing-key',
    target.routingKey,
    '--count',
    String(count),
    '--body-file',
    bodyFile,
    ...args,
  ])
  if (r.code !== 0) throw new Error(`raw-publisher exited ${r.code}: ${lastLine(r.stderr)}`)
  return {...r, summary: JSON.parse(lastLine(r.stdout))}
}

async function requireCommand(name) {
  const r = await evt([name, '--help'], {quiet: true})
  if (r.code !== 0 || /command .* not found/i.test(r.stderr)) {
    throw new Error(
      `\`evt ${name}\` is not available in this build (exit ${r.code}): ${lastLine(r.stderr) || 'no output'}`,
    )
  }
}

// ---------------------------------------------------------------------------------------------------
// Processes

function evt(args, options = {}) {
  return startEvt(args, options).done
}

function startEvt(args, options = {}) {
  return startNode(BIN, args, {...options, env: {NO_COLOR: '1', ...options.env}})
}

function node(script, args, options = {}) {
  return startNode(script, args, options).done
}

/**
 * A node child process with stdout/stderr piped. `countLines` counts stdout lines (and stamps the first
 * and last) without keeping them; `ready` resolves on a `{"ready":true}` line on stderr.
 */
function startNode(script, args, options = {}) {
  const env = {...process.env, ...options.env}
  for (const key of Object.keys(env)) {
    if ((key.startsWith('RABBITMQ_') || key.startsWith('EVT_')) && !(options.env && key in options.env)) delete env[key]
  }
  const startedAt = performance.now()
  const child = spawn(process.execPath, [script, ...args], {env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  let lines = 0
  let firstLineAt = 0
  let lastLineAt = 0
  let readyResolve
  const ready = new Promise((resolve) => {
    readyResolve = resolve
  })
  child.stdout.on('data', (chunk) => {
    if (options.countLines) {
      const now = performance.now()
      let n = 0
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++
      if (n > 0) {
        if (lines === 0) firstLineAt = now
        lines += n
        lastLineAt = now
      }
    } else stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
    if (stderr.includes('{"ready":true}')) readyResolve()
  })
  const done = new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      readyResolve()
      resolve({code, ms: performance.now() - startedAt, stdout, stderr, lines, firstLineAt, lastLineAt})
    })
  })
  return {pid: child.pid, startedAt, ready, done, lines: () => lines}
}

function linesRate(r) {
  const span = r.lastLineAt - r.firstLineAt
  return {rate: span > 0 ? ((r.lines - 1) * 1000) / span : 0, wallRate: (r.lines * 1000) / r.ms, wallMs: r.ms}
}

async function startBareNodeModule() {
  return import(join(ROOT, 'bench', 'bare-node.js'))
}

/** Pids whose environment holds needle (Linux /proc): every process of a private node or cluster. */
function processesWithEnv(needle) {
  const pids = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(needle)) pids.push(Number(entry))
    } catch {
      // gone, or not ours
    }
  }
  return pids
}

/** CPU seconds (user + system, with reaped children) the processes have used so far. */
function cpuSecondsOf(pids) {
  let ticks = 0
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    } catch {
      // gone
    }
  }
  return ticks / 100
}

function rssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1])
    return Number.isFinite(kb) ? Math.round(kb / 1024) : undefined
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------------
// Facts and formatting

function machineFacts() {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  }
}

function versions() {
  const pkg = (p) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, p), 'utf8')).version
    } catch {
      return 'unknown'
    }
  }
  let commit = ''
  try {
    // git itself: a worktree's .git is a file, not a folder.
    commit = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim()
  } catch {
    // not a git checkout, or no git
  }
  return {node: process.version, amqplib: pkg('node_modules/amqplib/package.json'), evt: pkg('package.json'), commit}
}

function positiveInt(flag, text) {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) fatal(`${flag} must be a whole number above 0 (got "${text}")`)
  return n
}

function fatal(msg) {
  process.stderr.write(`bench: ${msg}\n`)
  process.exit(2)
}

/** A section that cannot run here: logged, and left out so BENCHMARKS.md keeps earlier figures. */
function notRun(reason) {
  log(`   not run: ${reason}`)
  return undefined
}

/** Run a command; resolves with its stdout, rejects with its stderr's last line. */
function sh(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, {timeout: 120_000}, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args[0]}: ${lastLine(stderr) || err.message}`))
      else resolve(stdout)
    })
  })
}

function lastLine(text) {
  return (
    String(text)
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .at(-1) ?? ''
  )
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

function fmt(n) {
  return n >= 100 ? fmtInt(n) : n.toFixed(3)
}

function fmtInt(n) {
  return Math.round(n).toLocaleString('en-US')
}

function strip(md) {
  return md.replace(/`/g, '')
}

// Last, so every declaration above is initialised.
async function main() {
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const needsBroker = sections.some((s) =>
      ['publish', 'replay', 'tail', 'bench', 'tail-memory', 'provision'].includes(s),
    )
    if (needsBroker) {
      log('Starting a private RabbitMQ node ...')
      broker = await startBroker({runtime: 'local', name: 'bench'})
      const overview = await new ManagementClient(broker.managementUrl).overview()
      results.versions.rabbitmq = overview.rabbitmq_version
      results.versions.erlang = overview.erlang_version
    }
    for (const section of sections) {
      log(`\n== ${section}`)
      try {
        results.sections[section] = await SECTIONS[section]()
      } catch (err) {
        exitCode = 1
        // The cause says what the one-line message leaves out (a socket reset, a timeout).
        const cause = err?.cause?.cause?.message ?? err?.cause?.message
        const message = `${err?.message ?? err}${cause ? ` (${cause})` : ''}`
        results.sections[section] = {error: message}
        log(`section ${section} failed: ${message}`)
      }
    }
  } finally {
    await cleanup()
  }

  await mkdir(cli.results, {recursive: true})
  const resultsFile = join(
    cli.results,
    `${startedAt.toISOString().slice(0, 19).replaceAll(':', '').replace('T', '-')}-${results.versions.commit || 'nogit'}.json`,
  )
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`)
  log(`\nRaw results: ${relative(process.cwd(), resultsFile)}`)
  const table = summaryRows(await withEarlierRuns(results, resultsFile))
  if (!cli['no-markdown']) {
    await writeFile(cli.markdown, markdown(results, table, relative(dirname(cli.markdown), resultsFile)))
    log(`Summary: ${relative(process.cwd(), cli.markdown)}`)
  }
  console.log(plainTable(table))
  process.exit(exitCode)
}

await main()
