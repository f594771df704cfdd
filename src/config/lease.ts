import {randomBytes} from 'node:crypto'
import {mkdir, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {isSameProcess, processStartTime} from '../broker/process.js'
import {EvtError, ExitCode} from '../errors.js'
import {sleep} from '../util/time.js'
import {withLock} from './lock.js'
import {ensurePrivateDir} from './state.js'

/** One holder of a lease: enough to tell whether it still runs, and to say who it is. */
export interface LeaseHolder {
  pid: number
  startTime?: string
  exclusive: boolean
  /** What it does, for messages ("evt scenario durability"). */
  what: string
  since: string
}

export interface LeaseOptions {
  /** An exclusive holder shares with no one; shared holders share with each other. */
  exclusive: boolean
  what: string
  /** Give up waiting after this long (exit 3 naming the holders; default 10 minutes). */
  timeoutMs?: number
  /** Called once, when the lease is held by others and we start waiting. */
  onWait?: (holders: LeaseHolder[]) => void
  signal?: AbortSignal
  /** What the lease guards, for messages ('broker "ci"'). */
  subject: string
  /** The hint when waiting timed out. */
  busyHint?: string
}

/**
 * A readers-writer lease held as files in a folder: each holder writes its own file; an exclusive holder
 * waits until no live holder is left, a shared one until no live exclusive holder is. Holders that died
 * (SIGKILL) are swept, so a lease never outlives its process. The look-and-write is done under a short
 * lock file, so two processes never both decide the folder is free.
 */
export async function acquireLease(dir: string, options: LeaseOptions): Promise<() => Promise<void>> {
  const me: LeaseHolder = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    exclusive: options.exclusive,
    what: options.what.slice(0, 200),
    since: new Date().toISOString(),
  }
  const file = join(dir, `${process.pid}-${randomBytes(4).toString('hex')}.json`)
  const deadline = Date.now() + (options.timeoutMs ?? 600_000)
  let waited = false
  for (;;) {
    // Made under the lock: `evt down` removes an empty folder under the same lock.
    const blockers = await withLock(`${dir}.lock`, async () => {
      await mkdir(dir, {recursive: true, mode: 0o700})
      const others = await liveHolders(dir)
      const blocking = others.filter((h) => options.exclusive || h.exclusive)
      if (blocking.length === 0) await writeFile(file, JSON.stringify(me), {mode: 0o600})
      return blocking
    })
    if (blockers.length === 0) return () => rm(file, {force: true})
    if (Date.now() >= deadline) {
      throw new EvtError(`${options.subject} is busy: ${describeHolders(blockers)}`, {
        exitCode: ExitCode.unreachable,
        hint: options.busyHint ?? 'Wait for it to finish, or use another broker (evt up --name ...)',
      })
    }
    if (!waited) {
      waited = true
      options.onWait?.(blockers)
    }
    await sleep(200, options.signal)
  }
}

/** The lease folder of an `evt up` broker: scenario runs share or hold it, `evt down` holds it. */
export async function brokerLeaseDir(home: string, brokerName: string): Promise<string> {
  return join(await ensurePrivateDir(home, 'locks'), `${brokerName}.lease`)
}

/** The live holders of a lease folder; files of holders that died are removed. */
export async function liveHolders(dir: string): Promise<LeaseHolder[]> {
  const names = await readdir(dir).catch(() => [] as string[])
  const live: LeaseHolder[] = []
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const path = join(dir, name)
    const holder = await readFile(path, 'utf8')
      .then((t) => JSON.parse(t) as LeaseHolder)
      .catch(() => undefined)
    if (holder && isSameProcess(holder.pid, holder.startTime)) live.push(holder)
    else if (holder || (await ageMs(path)) > 10_000) await rm(path, {force: true})
  }
  return live
}

/** Remove a lease folder if no one holds it (under its lock, so no run is between mkdir and writing its file). */
export async function removeIdleLease(dir: string): Promise<void> {
  await withLock(`${dir}.lock`, async () => {
    if ((await liveHolders(dir)).length === 0) await rm(dir, {recursive: true, force: true})
  })
}

/** A file that does not parse was cut short by a crash mid-write (a live writer finishes within the lock). */
async function ageMs(path: string): Promise<number> {
  return stat(path).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  )
}

export function describeHolders(holders: LeaseHolder[]): string {
  return holders
    .map((h) => `pid ${h.pid} (${h.what}, ${h.exclusive ? 'exclusive' : 'shared'}, since ${h.since})`)
    .join('; ')
}
