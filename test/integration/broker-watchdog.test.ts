import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {waitFor} from '../../src/util/time.js'
import {spawnCli} from '../helpers/cli.js'
import {portClosed, processesWithEnv} from '../helpers/processes.js'

const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))

describe('a library user whose process dies without stop()', () => {
  it('SIGKILL of the owner: the watchdog kills the node and removes its folder', async () => {
    const script = `
      import {startBroker} from ${JSON.stringify(dist)}
      const broker = await startBroker({runtime: 'local', name: 'orphan'})
      console.log(JSON.stringify(broker.record.local))
      setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'inherit']})
    const facts = await new Promise<{nodeName: string; dataDir: string; ports: Record<string, number>}>((resolve) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]))
      })
    })
    expect(processesWithEnv(`RABBITMQ_NODENAME=${facts.nodeName}`).length).toBeGreaterThan(0)
    child.kill('SIGKILL')
    const clean = () =>
      processesWithEnv(`RABBITMQ_NODENAME=${facts.nodeName}`).length === 0 && !existsSync(facts.dataDir)
    expect(await waitFor(clean, {timeoutMs: 10_000, intervalMs: 100})).toBe(true)
    for (const port of Object.values(facts.ports)) expect(await portClosed(port), `port ${port}`).toBe(true)
  })
})

describe('a library user whose process dies without stopping its cluster', () => {
  it('SIGKILL of the owner: the watchdog kills every node and the epmd, and removes the folder', async () => {
    const script = `
      import {startBroker} from ${JSON.stringify(dist)}
      const cluster = await startBroker({runtime: 'local', nodes: 3, name: 'orphanc'})
      console.log(JSON.stringify(cluster.record.cluster))
      setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'inherit']})
    const facts = await new Promise<{
      dataDir: string
      epmdMarker: string
      epmdPort: number
      nodes: {nodeName: string}[]
    }>((resolve) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]))
      })
    })
    const names = [...facts.nodes.map((n) => n.nodeName), facts.epmdMarker]
    const left = () => names.flatMap((n) => processesWithEnv(`RABBITMQ_NODENAME=${n}`))
    expect(left().length).toBeGreaterThan(3)
    child.kill('SIGKILL')
    expect(
      await waitFor(() => left().length === 0 && !existsSync(facts.dataDir), {timeoutMs: 15_000, intervalMs: 100}),
    ).toBe(true)
    expect(await portClosed(facts.epmdPort), 'epmd port').toBe(true)
  }, 180_000)
})

describe('evt scenario killed with SIGKILL while it runs on a throwaway broker', () => {
  it('leaves no node and no temporary folder', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-scn-'))
    try {
      const child = spawnCli(['scenario', 'fanout', '--runtime', 'local'], {env: {EVT_HOME: home}})
      const closed = new Promise((resolve) => child.on('close', resolve))
      const needle = 'RABBITMQ_NODENAME=evt-scenario-'
      // Wait until the throwaway node runs, then kill evt the way a CI timeout does.
      // (A matching process may be short-lived, like epmd's launcher: read what can be read, until a folder shows.)
      const baseDirs = () =>
        processesWithEnv(needle).flatMap((pid) => {
          try {
            const m = /RABBITMQ_BASE=([^\0]+)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))
            return m ? [m[1]] : []
          } catch {
            return []
          }
        })
      // Keep the folders the poll saw: asking again may find only processes that have already gone.
      let dirs: string[] = []
      const seen = await waitFor(
        () => {
          dirs = [...new Set(baseDirs())]
          return dirs.length > 0
        },
        {timeoutMs: 30_000, intervalMs: 50},
      )
      expect(seen).toBe(true)
      child.kill('SIGKILL')
      await closed
      expect(await waitFor(() => processesWithEnv(needle).length === 0, {timeoutMs: 10_000, intervalMs: 100})).toBe(
        true,
      )
      expect(dirs.length).toBeGreaterThan(0)
      expect(await waitFor(() => dirs.every((d) => !existsSync(d)), {timeoutMs: 5000})).toBe(true)
    } finally {
      await rm(home, {recursive: true, force: true})
    }
  })
})
