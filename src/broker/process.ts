import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'

/** Process facts, from /proc on Linux (and `ps` elsewhere). Nothing is signalled here. */

/** Whether pid runs (a zombie, killed but not yet reaped, counts as gone). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

/** When pid started (clock ticks since boot, /proc/<pid>/stat field 22): tells a recycled pid apart. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** Whether pid is alive and is the same process as when startTime was read. */
export function isSameProcess(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid || !isAlive(pid)) return false
  if (startTime === undefined) return true
  const now = processStartTime(pid)
  return now === undefined || now === startTime
}

const hasProc = (() => {
  try {
    readdirSync('/proc/self')
    return true
  } catch {
    return false
  }
})()

/** The environment pid started with, or undefined when it cannot be read (another user, no /proc). */
function processEnviron(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
  } catch {
    return undefined
  }
}

function processCommand(pid: number): string | undefined {
  if (hasProc) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
    } catch {
      return undefined
    }
  }
  try {
    return execFileSync('ps', ['-p', String(pid), '-o', 'command='], {encoding: 'utf8', timeout: 2000}).trim()
  } catch {
    return undefined
  }
}

/**
 * Whether pid belongs to the private node called nodeName: it was started with RABBITMQ_NODENAME=nodeName
 * in its environment (launcher, VM, epmd and helpers all are), or names the node on its command line.
 * A pid that fails this check is never signalled, whatever a record or pid file says.
 */
export function belongsToNode(pid: number, nodeName: string): boolean {
  if (!isAlive(pid)) return false
  const environ = processEnviron(pid)
  if (environ?.includes(`RABBITMQ_NODENAME=${nodeName}`)) return true
  const command = processCommand(pid)
  return Boolean(command?.includes(nodeName.replace(/@.*$/, '')))
}

/** Every live process of the node called nodeName (Linux: a /proc scan; elsewhere: none found this way). */
export function nodeProcesses(nodeName: string): number[] {
  if (!hasProc) return []
  const needle = `RABBITMQ_NODENAME=${nodeName}`
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    if (processEnviron(pid)?.includes(needle) && isAlive(pid)) pids.push(pid)
  }
  return pids
}

export function sendSignal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}
