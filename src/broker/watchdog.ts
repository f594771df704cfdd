import {type ChildProcess, spawn} from 'node:child_process'
import {join} from 'node:path'
import {packageRoot, runsFromSource} from '../util/package-root.js'

/**
 * What the watchdog does when its owner is gone. Generic on purpose: each runtime registers what undoes
 * what it started.
 * - kill-node: SIGKILL every process started with RABBITMQ_NODENAME=nodeName (launcher, VM, epmd, helpers),
 *   and the pid in pidFile if it belongs to the node;
 * - command: run argv (e.g. `docker rm -f <id>`), at most timeoutMs;
 * - remove-path: rm -rf path;
 * - restore-tracing: once the tail's lease queue is gone, turn the vhost's firehose tracer off unless another
 *   restore lease is held (see tail/tracing.ts). The management URL travels on the pipe, never in argv.
 * - docker-remove: remove (force, with volumes) every container carrying these labels, through the Engine API at
 *   dockerHost (no docker CLI needed); covers a container whose id was not known yet; with networks, the
 *   networks carrying them too (a container cluster's).
 * Actions run in the order given.
 */
export type CleanupAction =
  | {kind: 'kill-node'; nodeName: string; pidFile?: string}
  | {kind: 'command'; argv: string[]; timeoutMs?: number}
  | {kind: 'remove-path'; path: string}
  | {kind: 'restore-tracing'; managementUrl: string; vhost: string; lease: string}
  | {kind: 'docker-remove'; dockerHost: string; labels: Record<string, string>; networks?: boolean}

export interface CleanupHandle {
  /** The owner cleaned up itself: the watchdog forgets these actions. */
  release(): void
}

/** One line of the owner → watchdog protocol (newline-delimited JSON on the watchdog's stdin). */
export type WatchdogMessage = {op: 'add'; id: number; actions: CleanupAction[]} | {op: 'release'; id: number}

let watchdog: ChildProcess | undefined
let nextId = 1

/**
 * Make sure the actions run if this process dies without release(): SIGKILL, a crash, a test runner that
 * exits without stop(). Like Testcontainers' reaper, the watchdog is a small detached process; it learns
 * of its owner's death when the pipe from the owner closes (the kernel closes it, whatever killed the owner).
 */
export function registerCleanup(actions: CleanupAction[]): CleanupHandle {
  const id = nextId++
  send({op: 'add', id, actions})
  let released = false
  return {
    release() {
      if (released) return
      released = true
      send({op: 'release', id})
    },
  }
}

function send(message: WatchdogMessage): void {
  const child = ensureWatchdog()
  if (!child?.stdin || child.stdin.destroyed) return
  child.stdin.write(`${JSON.stringify(message)}\n`)
}

function ensureWatchdog(): ChildProcess | undefined {
  if (watchdog && watchdog.exitCode === null && watchdog.signalCode === null) return watchdog
  const root = packageRoot()
  // Built (dist/ or the CLI bundle): plain node. From src/ (tsx, vitest): through tsx, from the package root
  // where tsx is installed.
  const fromSource = runsFromSource()
  const args = fromSource
    ? ['--import', 'tsx', join(root, 'src', 'broker', 'watchdog-main.ts')]
    : [join(root, 'dist', 'broker', 'watchdog-main.js')]
  args.push(String(process.pid))
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    cwd: fromSource ? root : undefined,
    env: {...process.env, NODE_OPTIONS: ''},
  })
  child.on('error', () => undefined)
  child.stdin?.on('error', () => undefined)
  // Neither the child nor the pipe keeps this process alive.
  child.unref()
  const stdin = child.stdin
  if (stdin && 'unref' in stdin && typeof stdin.unref === 'function') stdin.unref()
  watchdog = child
  return child
}
