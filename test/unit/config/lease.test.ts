import {spawnSync} from 'node:child_process'
import {mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {acquireLease, type LeaseHolder, removeIdleLease} from '../../../src/config/lease.js'
import {sleep} from '../../../src/util/time.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, {recursive: true, force: true})))
})
async function leaseDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'evt-lease-'))
  dirs.push(d)
  return join(d, 'ci.scenarios')
}
const opts = (exclusive: boolean, what = 'test') => ({exclusive, what, subject: 'broker "ci"'})

describe('acquireLease: shared runs together, an exclusive run alone', () => {
  it('shared holders share; the folder is private and each holder file is 0600', async () => {
    const dir = await leaseDir()
    const a = await acquireLease(dir, opts(false))
    const b = await acquireLease(dir, {...opts(false), timeoutMs: 0})
    const files = await readdir(dir)
    expect(files).toHaveLength(2)
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    expect((await stat(join(dir, files[0]))).mode & 0o777).toBe(0o600)
    await a()
    await b()
    expect(await readdir(dir)).toEqual([])
  })

  it('an exclusive holder waits for the shared ones, saying once for whom, and gets in when they leave', async () => {
    const dir = await leaseDir()
    const shared = await acquireLease(dir, opts(false, 'evt scenario fanout'))
    const waits: LeaseHolder[][] = []
    let inside = false
    const exclusive = acquireLease(dir, {...opts(true), onWait: (h) => waits.push(h)}).then((release) => {
      inside = true
      return release
    })
    await sleep(500)
    expect(inside).toBe(false)
    await shared()
    const release = await exclusive
    expect(inside).toBe(true)
    expect(waits).toHaveLength(1)
    expect(waits[0].map((h) => h.what)).toEqual(['evt scenario fanout'])
    // And while it holds the broker, a shared run cannot start.
    await expect(acquireLease(dir, {...opts(false), timeoutMs: 0})).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/^broker "ci" is busy: pid \d+ \(test, exclusive, since /),
    })
    await release()
  })

  it('exclusive holders racing for one lease get in one at a time', async () => {
    const dir = await leaseDir()
    let inside = 0
    let most = 0
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const release = await acquireLease(dir, opts(true))
        inside++
        most = Math.max(most, inside)
        await sleep(30)
        inside--
        await release()
      }),
    )
    expect(most).toBe(1)
  })

  it('a holder that died (SIGKILL leaves its file) holds nothing: its file is swept', async () => {
    const dir = await leaseDir()
    await mkdir(dir, {recursive: true})
    const dead = spawnSync(process.execPath, ['-e', '0']).pid
    const stale: LeaseHolder = {pid: dead, startTime: 'gone', exclusive: true, what: 'killed', since: 'then'}
    await writeFile(join(dir, `${dead}-dead.json`), JSON.stringify(stale))
    const release = await acquireLease(dir, {...opts(true), timeoutMs: 0})
    expect((await readdir(dir)).some((f) => f.startsWith(`${dead}-`))).toBe(false)
    await release()
  })

  it('a holder file cut short by a crash mid-write is swept once old; an idle lease folder can be removed, a held one not', async () => {
    const dir = await leaseDir()
    await mkdir(dir, {recursive: true})
    const torn = join(dir, '1-torn.json')
    await writeFile(torn, '{"pid": 1, "start')
    const old = new Date(Date.now() - 60_000)
    await utimes(torn, old, old)
    const release = await acquireLease(dir, {...opts(true), timeoutMs: 0})
    expect(await readdir(dir)).toHaveLength(1)
    await removeIdleLease(dir)
    expect(await readdir(dir)).toHaveLength(1)
    await release()
    await removeIdleLease(dir)
    await expect(stat(dir)).rejects.toThrow(/ENOENT/)
    // And the next run makes it again.
    const again = await acquireLease(dir, opts(false))
    await again()
  })

  it('with no time to wait, a busy lease fails at once without announcing a wait', async () => {
    const dir = await leaseDir()
    const release = await acquireLease(dir, opts(true))
    const waits: unknown[] = []
    await expect(acquireLease(dir, {...opts(true), timeoutMs: 0, onWait: (h) => waits.push(h)})).rejects.toMatchObject({
      exitCode: 3,
    })
    expect(waits).toEqual([])
    await release()
  })

  it('Ctrl-C while waiting rejects with the signal reason and leaves no holder file', async () => {
    const dir = await leaseDir()
    const release = await acquireLease(dir, opts(true))
    const abort = new AbortController()
    const waiting = acquireLease(dir, {...opts(true), signal: abort.signal})
    await sleep(50)
    abort.abort(new Error('interrupted by SIGINT'))
    await expect(waiting).rejects.toThrow('interrupted by SIGINT')
    await release()
    expect(await readdir(dir)).toEqual([])
  })
})

describe('evt node takes the broker alone', () => {
  it('waits for a scenario run holding the broker, says for whom, and gives up with exit 3 at its deadline', async () => {
    const {brokerLeaseDir} = await import('../../../src/config/lease.js')
    const {runNodeFault} = await import('../../../src/faults/node.js')
    const home = await mkdtemp(join(tmpdir(), 'evt-node-lease-'))
    dirs.push(home)
    const release = await acquireLease(await brokerLeaseDir(home, 'ci'), opts(false, 'evt scenario fanout'))
    const waits: string[] = []
    const err = await runNodeFault({
      home,
      name: 'ci',
      action: 'kill',
      node: '1',
      waitMs: 300,
      onWait: (m) => waits.push(m),
    })
      .then(() => undefined)
      .catch((e: {exitCode?: number; message: string}) => e)
    await release()
    expect(err?.exitCode).toBe(3)
    expect(waits).toHaveLength(1)
    expect(waits[0]).toMatch(/evt scenario fanout/)
    // Once free, the fault goes on to look for the broker (none is recorded here: exit 3, for that reason).
    const missing = await runNodeFault({home, name: 'ci', action: 'kill', node: '1', waitMs: 300})
      .then(() => undefined)
      .catch((e: {exitCode?: number; message: string}) => e)
    expect(missing?.message).toMatch(/no broker "ci" is recorded/)
  })
})
