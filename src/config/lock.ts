import {randomBytes} from 'node:crypto'
import {link, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {isSameProcess, processStartTime} from '../broker/process.js'
import {UsageError} from '../errors.js'
import {sleep} from '../util/time.js'

/** Who holds a lock: enough to tell whether it still runs. */
export interface LockOwner {
  pid: number
  startTime?: string
  command: string
  since: string
}

export interface LockOptions {
  /** Give up waiting after this long (exit 2 naming the holder). */
  timeoutMs?: number
  /** Called once when the lock is held by a live process and we start waiting. */
  onWait?: (owner: LockOwner) => void
  signal?: AbortSignal
  /** What the lock guards, for messages ("broker \"ci\""). */
  what?: string
}

/**
 * An exclusive lock file. Taken by hard-linking a complete owner file into place (atomic, and the
 * content is never half-written); a lock whose owner died (SIGKILL) is taken over, under a short
 * second lock so that two waiters never both take over.
 */
export async function withLock<T>(file: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const release = await acquireLock(file, options)
  try {
    return await work()
  } finally {
    await release()
  }
}

export async function acquireLock(file: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const me: LockOwner = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    command: process.argv.slice(1).join(' ').slice(0, 200),
    since: new Date().toISOString(),
  }
  const text = JSON.stringify(me)
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  let waited = false
  for (;;) {
    if (await tryLink(file, text)) {
      return async () => {
        // Only remove a lock that is still ours.
        if ((await readFile(file, 'utf8').catch(() => '')) === text) await rm(file, {force: true})
      }
    }
    const owner = await readOwner(file)
    if (owner && !isSameProcess(owner.pid, owner.startTime)) {
      await takeOverStale(file, owner)
      continue
    }
    if (owner && !waited) {
      waited = true
      options.onWait?.(owner)
    }
    if (Date.now() >= deadline) {
      throw new UsageError(
        `${options.what ?? file} is locked by another evt process (pid ${owner?.pid ?? '?'}: ${owner?.command ?? 'unknown'})`,
        'Wait for it to finish, or stop it',
      )
    }
    await sleep(100, options.signal)
  }
}

async function tryLink(file: string, text: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  await writeFile(tmp, text, {mode: 0o600})
  try {
    await link(tmp, file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    await rm(tmp, {force: true})
  }
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockOwner
  } catch {
    return undefined
  }
}

/** Remove a lock whose owner is dead, if it is still that same lock (another waiter may have been first). */
async function takeOverStale(file: string, stale: LockOwner): Promise<void> {
  const guard = `${file}.takeover`
  const guardText = JSON.stringify({pid: process.pid, startTime: processStartTime(process.pid)})
  if (!(await tryLink(guard, guardText))) {
    // Another process is taking over; a guard left by a process that died there is removed after 5 s.
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    )
    if (age > 5000) await rm(guard, {force: true})
    await sleep(20)
    return
  }
  try {
    const now = await readOwner(file)
    if (now && now.pid === stale.pid && now.startTime === stale.startTime && now.since === stale.since) {
      await rm(file, {force: true})
    }
  } finally {
    await rm(guard, {force: true})
  }
}
