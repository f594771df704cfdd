import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterEach, describe, expect, it} from 'vitest'
import {waitFor} from '../../../src/util/time.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, {recursive: true, force: true})))
})

/** An owner process that registers cleanups, says "ready", then waits to be killed (or exits). */
function owner(code: string) {
  const script = `import {registerCleanup} from './src/broker/watchdog.ts'\n${code}\nconsole.log('ready')`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const ready = new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('ready') && resolve()))
  return {child, ready}
}

describe('the cleanup watchdog', () => {
  it('runs the registered actions when its owner is SIGKILLed; released ones never run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evt-wd-'))
    dirs.push(dir)
    const keep = join(dir, 'keep')
    const gone = join(dir, 'gone')
    const made = join(dir, 'made')
    const {child, ready} = owner(`
      import {mkdirSync} from 'node:fs'
      mkdirSync(${JSON.stringify(gone)}); mkdirSync(${JSON.stringify(keep)})
      registerCleanup([{kind: 'command', argv: ['touch', ${JSON.stringify(made)}]}, {kind: 'remove-path', path: ${JSON.stringify(gone)}}])
      registerCleanup([{kind: 'remove-path', path: ${JSON.stringify(keep)}}]).release()
      setInterval(() => {}, 1000)
    `)
    await ready
    child.kill('SIGKILL')
    expect(await waitFor(() => existsSync(made) && !existsSync(gone), {timeoutMs: 5000})).toBe(true)
    expect(existsSync(keep)).toBe(true)
  })

  it('also runs them when the owner simply exits without releasing, and does not keep it alive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evt-wd-'))
    dirs.push(dir)
    const made = join(dir, 'made')
    const {child} = owner(`registerCleanup([{kind: 'command', argv: ['touch', ${JSON.stringify(made)}]}])`)
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(await waitFor(() => existsSync(made), {timeoutMs: 5000})).toBe(true)
  })
})
