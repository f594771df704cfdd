#!/usr/bin/env node
// Stress the per-name lock of `evt up`: 4 `evt up --name same` at once, 10 rounds (ROUNDS, PARALLEL to change).
// After each round: every evt up exited 0, exactly one started the broker, the record is alive and answers,
// and after `evt down` no process of the node is left. Prints one line per round; exit 1 on any failure.
// Uses the built CLI (npm run build) and a temporary EVT_HOME; needs rabbitmq-server (local runtime).
import {spawn} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {createConnection} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const RUN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const ROUNDS = Number(process.env.ROUNDS ?? 10)
const PARALLEL = Number(process.env.PARALLEL ?? 4)
const home = mkdtempSync(join(tmpdir(), 'evt-stress-'))
const env = {...process.env, EVT_HOME: home, NO_COLOR: '1'}
for (const k of Object.keys(env)) if (k.startsWith('RABBITMQ_') || k === 'EVT_BROKER') delete env[k]

function evt(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

function nodeProcesses() {
  const pids = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      if (readFileSync(`/proc/${e}/environ`, 'utf8').includes('RABBITMQ_NODENAME=evt-same-')) pids.push(Number(e))
    } catch {}
  }
  return pids
}

function amqpAnswers(port) {
  return new Promise((resolve) => {
    const s = createConnection({host: '127.0.0.1', port})
    const done = (ok) => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(2000, () => done(false))
    s.on('error', () => done(false))
    s.on('connect', () => s.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')))
    s.on('data', (c) => done(c[0] === 1))
  })
}

let failures = 0
const started = Date.now()
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const t0 = Date.now()
    const results = await Promise.all(
      Array.from({length: PARALLEL}, () =>
        evt(['up', '--runtime', 'local', '--name', 'same', '--no-provision', '--json']),
      ),
    )
    const problems = []
    const statuses = []
    for (const r of results) {
      if (r.code !== 0) problems.push(`exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`)
      else statuses.push(JSON.parse(r.stdout).status)
    }
    if (statuses.filter((s) => s === 'started').length !== 1) problems.push(`statuses ${statuses.join(',')}`)
    let record
    try {
      record = JSON.parse(readFileSync(join(home, 'brokers', 'same.json'), 'utf8'))
    } catch {
      problems.push('no record')
    }
    if (record && record.state !== 'running') problems.push(`record state ${record.state}`)
    if (record && !(await amqpAnswers(record.local.ports.amqp))) problems.push('recorded broker does not answer')
    const down = await evt(['down', '--name', 'same'])
    if (down.code !== 0) problems.push(`down exit ${down.code}`)
    const left = nodeProcesses()
    if (left.length > 0) problems.push(`left processes ${left.join(',')}`)
    const seconds = ((Date.now() - t0) / 1000).toFixed(1)
    console.log(
      `round ${round}: ${problems.length === 0 ? 'ok' : `FAIL ${problems.join('; ')}`} (${statuses.join(', ')}; ${seconds}s)`,
    )
    if (problems.length > 0) failures++
  }
} finally {
  await evt(['down', '--name', 'same'])
  rmSync(home, {recursive: true, force: true})
}
console.log(
  `${ROUNDS - failures}/${ROUNDS} rounds clean, ${PARALLEL} evt up at once, ${((Date.now() - started) / 1000).toFixed(0)}s`,
)
process.exit(failures === 0 ? 0 : 1)
