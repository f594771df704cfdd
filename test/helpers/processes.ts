import {readdirSync, readFileSync} from 'node:fs'
import {waitFor} from '../../src/util/time.js'

/** Pids whose command line contains `needle` (Linux /proc), excluding zombies. */
export function processesMatching(needle: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (cmdline.includes(needle) && !/^\d+ \(.*\) Z/.test(stat)) pids.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

/** Pids whose environment contains `needle` (e.g. RABBITMQ_NODENAME=evt-ci-): every process of a private node. */
export function processesWithEnv(needle: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (environ.includes(needle) && !/^\d+ \(.*\) Z/.test(stat)) pids.push(Number(entry))
    } catch {
      // the process ended while we looked, or is not ours
    }
  }
  return pids
}

/**
 * Whether anything listens on this TCP port (Linux /proc/net/tcp{,6}, state LISTEN). Unlike trying to bind it,
 * another program's outgoing connection that happens to use the port as its ephemeral source does not count.
 */
export function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/)
      if (state === '0A' && local?.endsWith(`:${hex}`)) return true
    }
  }
  return false
}

/**
 * Whether nothing listens on the port within the deadline: the kernel lets go of a dead process's listening sockets
 * a moment after it is gone, so poll, do not sample.
 */
export function portClosed(port: number, timeoutMs = 5000): Promise<boolean> {
  return waitFor(() => !listening(port), {timeoutMs, intervalMs: 50})
}
