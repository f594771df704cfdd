import {createHash, randomBytes} from 'node:crypto'
import {hostname} from 'node:os'
import type {ManagementClient} from '../management/client.js'

/**
 * Scenario vhosts are named `evt-scn-<host>-<pid>-<scenario>-<random>`: the host tag (6 hex digits of the
 * machine's name) and the owner's pid let a later run tell a leftover of a killed run (same machine, pid
 * gone) from the vhost of a run still going (another process, or another machine sharing the broker).
 */
export const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 6)
const OURS = /^evt-scn-([0-9a-f]{6})-(\d+)-/

export function scenarioVhost(name: string, pid = process.pid): string {
  return `evt-scn-${HOST_TAG}-${pid}-${name}-${randomBytes(3).toString('hex')}`
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The scenario vhosts whose owner on this machine is gone (SIGKILL, a crash): safe to delete. */
export function leftoverVhosts(names: string[], isAlive: (pid: number) => boolean = alive): string[] {
  return names.filter((name) => {
    const m = OURS.exec(name)
    return m !== null && m[1] === HOST_TAG && Number(m[2]) !== process.pid && !isAlive(Number(m[2]))
  })
}

/** Delete leftovers of killed runs; returns how many went. */
export async function sweepLeftoverVhosts(api: ManagementClient): Promise<number> {
  const names = (await api.get<{name: string}[]>('/vhosts')).map((v) => v.name)
  const gone = leftoverVhosts(names)
  for (const name of gone) await api.deleteVhost(name).catch(() => {})
  return gone.length
}
