import {randomBytes} from 'node:crypto'
import {registerCleanup} from '../broker/watchdog.js'
import {UnreachableError} from '../errors.js'
import {enc, type ManagementClient, ManagementHttpError} from '../management/client.js'
import {sleep} from '../util/time.js'
import {TAP_PREFIX} from './plan.js'

/**
 * The firehose tracer, on for a vhost only while a tail needs it.
 *
 * Each firehose tap queue is a lease: it is exclusive, so it disappears with its connection (also on SIGKILL).
 * Its name says whether the tracer must be turned off when the last lease goes:
 *   evt.tap.trace.restore.<id>  tracing was off when evt turned it on (or another restore lease was held)
 *   evt.tap.trace.keep.<id>     tracing was already on: leave it on
 * The last holder of a restore lease turns tracing off on release. A SIGKILLed tail cannot release, so evt's
 * watchdog (broker/watchdog.ts) does it when the tail's process is gone.
 */

export const LEASE_RESTORE = `${TAP_PREFIX}trace.restore.`
export const LEASE_KEEP = `${TAP_PREFIX}trace.keep.`

export interface TracingLease {
  vhost: string
  /** The name of the tap queue to declare: it is the lease. */
  queueName: string
  /** Whether this tail turned tracing on (it was off). */
  turnedOn: boolean
  /** Whether the tracer is turned off when this lease is the last restore lease. */
  restore: boolean
  /** Release: tracing goes back to off when this was the last restore lease. Idempotent. */
  release(): Promise<void>
}

interface VhostInfo {
  name: string
  tracing?: boolean
  description?: string
  tags?: string[] | string
  default_queue_type?: string
}

/** The body that sets `tracing` on a vhost and keeps its description, tags and default queue type. */
export function vhostBody(info: VhostInfo, tracing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {tracing}
  if (info.description !== undefined) body.description = info.description
  if (info.tags !== undefined) body.tags = Array.isArray(info.tags) ? info.tags.join(',') : info.tags
  if (info.default_queue_type && info.default_queue_type !== 'undefined')
    body.default_queue_type = info.default_queue_type
  return body
}

function permissionError(vhost: string, user: string, err: unknown): UnreachableError {
  return new UnreachableError(
    `cannot turn the firehose tracer on for vhost ${vhost}: the management API refused user ${user} (${
      err instanceof ManagementHttpError ? `HTTP ${err.status}` : 'access refused'
    })`,
    `Turning tracing on needs the administrator tag. Ask an administrator to run \`rabbitmqctl trace_on -p ${vhost}\` (evt then leaves it on), or tap a queue that has bindings, or read it with --consume --requeue`,
    err,
  )
}

function refusal(err: unknown): boolean {
  return (
    (err instanceof ManagementHttpError && (err.status === 401 || err.status === 403)) ||
    (err instanceof UnreachableError && err.message.startsWith('access refused'))
  )
}

/** Turn tracing on for the vhost (if it is off) and take a lease. */
export async function acquireTracing(
  api: ManagementClient,
  managementUrl: string,
  vhost: string,
): Promise<TracingLease> {
  const path = `/vhosts/${enc(vhost)}`
  let info: VhostInfo
  try {
    info = await api.get<VhostInfo>(path)
  } catch (err) {
    // RabbitMQ shows a vhost's settings to administrators only (401 "Not administrator user").
    if (refusal(err)) throw permissionError(vhost, api.username, err)
    throw err
  }
  const id = randomBytes(6).toString('hex')
  let restore: boolean
  let turnedOn = false
  if (info.tracing) {
    // On already: ours to restore only if another evt tail turned it on and still holds a restore lease.
    restore = (await restoreLeases(api, vhost)).length > 0
  } else {
    try {
      await api.put(path, vhostBody(info, true))
    } catch (err) {
      // PUT /vhosts needs an administrator.
      if (refusal(err)) throw permissionError(vhost, api.username, err)
      throw err
    }
    restore = true
    turnedOn = true
  }
  const queueName = `${restore ? LEASE_RESTORE : LEASE_KEEP}${id}`
  const cleanup = restore
    ? registerCleanup([{kind: 'restore-tracing', managementUrl, vhost, lease: queueName}])
    : undefined
  let released = false
  return {
    vhost,
    queueName,
    turnedOn,
    restore,
    async release() {
      if (released) return
      released = true
      if (!restore) return
      try {
        await restoreTracing(api, vhost, queueName)
      } finally {
        cleanup?.release()
      }
    },
  }
}

async function restoreLeases(api: ManagementClient, vhost: string): Promise<string[]> {
  const queues = await api.get<{name: string}[]>(`/queues/${enc(vhost)}?columns=name`)
  return queues.map((q) => q.name).filter((n) => n.startsWith(LEASE_RESTORE))
}

/** Turn tracing off unless another restore lease (other than `own`) is still held. */
export async function restoreTracing(api: ManagementClient, vhost: string, own: string): Promise<boolean> {
  const others = (await restoreLeases(api, vhost)).filter((n) => !n.startsWith(own))
  if (others.length > 0) return false
  const path = `/vhosts/${enc(vhost)}`
  const info = await api.get<VhostInfo>(path)
  if (info.tracing) await api.put(path, vhostBody(info, false))
  return true
}

/**
 * What the watchdog runs when a tail dies holding a restore lease (SIGKILL): wait for the exclusive lease queue
 * to go with its connection, then turn tracing off unless another restore lease is held. Bounded: 10 s.
 */
export async function restoreTracingAfterLease(managementUrl: string, vhost: string, lease: string): Promise<void> {
  const {ManagementClient} = await import('../management/client.js')
  const api = new ManagementClient(managementUrl, 5000)
  const until = Date.now() + 10_000
  while (Date.now() < until) {
    try {
      const held = await restoreLeases(api, vhost)
      if (!held.includes(lease)) {
        await restoreTracing(api, vhost, lease)
        return
      }
    } catch {
      // the broker may be busy: try again until the deadline
    }
    await sleep(500)
  }
}
