import {spawnSync} from 'node:child_process'
import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {acquireLock, withLock} from '../../../src/config/lock.js'
import {sleep} from '../../../src/util/time.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, {recursive: true, force: true})))
})
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'evt-lock-'))
  dirs.push(d)
  return d
}

describe('withLock', () => {
  it('lets one holder in at a time, the others wait their turn', async () => {
    const file = join(await tempDir(), 'x.lock')
    let inside = 0
    let most = 0
    const order: number[] = []
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        withLock(file, async () => {
          inside++
          most = Math.max(most, inside)
          await sleep(30)
          order.push(i)
          inside--
        }),
      ),
    )
    expect(most).toBe(1)
    expect(order.sort()).toEqual([0, 1, 2, 3])
  })

  it('takes over a lock whose holder died (SIGKILL), and reports a live holder while waiting', async () => {
    const dir = await tempDir()
    const file = join(dir, 'x.lock')
    // A pid that existed and is gone now.
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid
    await writeFile(file, JSON.stringify({pid: dead, startTime: '1', command: 'evt up', since: 'then'}))
    const release = await acquireLock(file, {timeoutMs: 2000})
    const waits: number[] = []
    const second = acquireLock(file, {timeoutMs: 5000, onWait: (o) => waits.push(o.pid)})
    await sleep(150)
    expect(waits).toEqual([process.pid])
    await release()
    await (await second)()
    expect(await readdir(dir)).toEqual([])
  })

  it('gives up after its timeout with exit 2 naming the holder', async () => {
    const file = join(await tempDir(), 'x.lock')
    const release = await acquireLock(file)
    await expect(acquireLock(file, {timeoutMs: 200, what: 'broker "ci"'})).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`broker "ci" is locked by another evt process (pid ${process.pid}`),
    })
    await release()
  })
})
