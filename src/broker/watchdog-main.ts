/**
 * The watchdog process (see watchdog.ts). Reads cleanup actions from stdin; when stdin closes (its owner
 * exited or was killed) or the owner pid is gone, runs the actions still registered, then exits.
 * Runs detached, in its own session: a Ctrl-C aimed at the owner's terminal does not reach it.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {dockerEndpoint, removeByLabels, removeNetworksByLabels} from './docker-api.js'
import {belongsToNode, isAlive, nodeProcesses, sendSignal} from './process.js'
import type {CleanupAction, WatchdogMessage} from './watchdog.js'

const ownerPid = Number(process.argv[2])
const pending = new Map<number, CleanupAction[]>()
let buffer = ''
let done = false

for (const sig of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) process.on(sig, () => void finish())

process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  buffer += chunk
  for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
    const line = buffer.slice(0, nl)
    buffer = buffer.slice(nl + 1)
    try {
      const message = JSON.parse(line) as WatchdogMessage
      if (message.op === 'add') pending.set(message.id, message.actions)
      else pending.delete(message.id)
    } catch {
      // not a message
    }
  }
})
process.stdin.on('end', () => void finish())
process.stdin.on('error', () => void finish())
// The pipe closing is the signal; the pid check is a backstop.
setInterval(() => {
  if (!isAlive(ownerPid)) void finish()
}, 1000)

async function finish(): Promise<void> {
  if (done) return
  done = true
  for (const actions of pending.values()) {
    for (const action of actions) {
      try {
        await run(action)
      } catch {
        // do the rest anyway
      }
    }
  }
  process.exit(0)
}

async function run(action: CleanupAction): Promise<void> {
  switch (action.kind) {
    case 'kill-node': {
      const pids = new Set(nodeProcesses(action.nodeName))
      if (action.pidFile) {
        try {
          const pid = Number(readFileSync(action.pidFile, 'utf8').trim())
          if (Number.isInteger(pid) && pid > 0 && belongsToNode(pid, action.nodeName)) pids.add(pid)
        } catch {
          // no pid file yet
        }
      }
      // Until none is left: a launcher caught mid-start may fork a child after the list was taken.
      const until = Date.now() + 5000
      while (Date.now() < until) {
        for (const pid of pids) sendSignal(pid, 'SIGKILL')
        for (const pid of nodeProcesses(action.nodeName)) pids.add(pid)
        if (![...pids].some((p) => isAlive(p))) break
        execFileSync('sleep', ['0.05'])
      }
      return
    }
    case 'command':
      execFileSync(action.argv[0], action.argv.slice(1), {stdio: 'ignore', timeout: action.timeoutMs ?? 30_000})
      return
    case 'remove-path':
      rmSync(action.path, {recursive: true, force: true})
      return
    case 'restore-tracing': {
      const {restoreTracingAfterLease} = await import('../tail/tracing.js')
      await restoreTracingAfterLease(action.managementUrl, action.vhost, action.lease)
      return
    }
    case 'docker-remove': {
      const endpoint = dockerEndpoint({...process.env, DOCKER_HOST: action.dockerHost})
      // A container being created right now appears a moment later: look twice.
      await removeByLabels(action.labels, endpoint)
      await new Promise((r) => setTimeout(r, 1500))
      await removeByLabels(action.labels, endpoint)
      if (action.networks) await removeNetworksByLabels(action.labels, endpoint)
      return
    }
  }
}
