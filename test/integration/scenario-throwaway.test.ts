import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {amqpAnswers} from '../../src/broker/probe.js'
import {runCli, spawnCli} from '../helpers/cli.js'

// No `evt up`, no --url: the CLI starts a throwaway broker (runtime auto: local here) and removes it.
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evt-scenario-throwaway-'))
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

function brokerPort(stderr: string): number {
  const m = /Throwaway \w+ broker ready at amqp:\/\/evt:\*\*\*\*@127\.0\.0\.1:(\d+)/.exec(stderr)
  if (!m) throw new Error(`no broker line in: ${stderr}`)
  return Number(m[1])
}

describe('evt scenario on a throwaway broker', () => {
  it('durability starts a broker, passes, removes it, and exits 0', async () => {
    const r = await runCli(['scenario', 'durability', '--messages', '500'], {
      env: {EVT_HOME: join(dir, 'home')},
      cwd: dir,
      timeoutMs: 110_000,
    })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/PASS durability: 6\/6 checks passed/)
    expect(r.stdout).toMatch(/started for this run, removed afterwards/)
    expect(await amqpAnswers('127.0.0.1', brokerPort(r.stderr))).toBe(false)
    // Nothing recorded: a throwaway broker is not an `evt up` broker.
    expect(await readdir(dir)).toEqual([])
  })

  it('Ctrl-C stops the throwaway broker too', async () => {
    const child = spawnCli(['scenario', 'durability', '--messages', '500'], {
      env: {EVT_HOME: join(dir, 'home')},
      cwd: dir,
    })
    let stderr = ''
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d
        if (stderr.includes('Running durability')) resolve()
      })
    })
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(130)
    expect(await amqpAnswers('127.0.0.1', brokerPort(stderr))).toBe(false)
  })
})
