import type {Definitions, DefinitionsQueue} from './definitions.js'

export type QueueTypeChoice = 'classic' | 'quorum'

/** The delivery limit given to rewritten queues that do not set one (RabbitMQ 4.0's default). */
export const DEFAULT_DELIVERY_LIMIT = 20

/** Arguments a quorum queue refuses or ignores: dropped from a rewritten queue. */
const CLASSIC_ONLY = ['x-queue-mode', 'x-queue-version', 'x-queue-master-locator', 'x-max-priority']

export interface QuorumRewrite {
  definitions: Definitions
  /** vhost/name of the queues turned into quorum queues. */
  rewritten: string[]
  /** vhost/name -> why it stayed classic. */
  kept: Record<string, string>
}

/** Why a queue cannot be a quorum queue, or undefined when it can. */
function whyNotQuorum(q: DefinitionsQueue): string | undefined {
  if (!q.durable) return 'not durable (quorum queues are always durable)'
  if (q.auto_delete) return 'auto-delete'
  if (q.arguments?.['x-max-priority'] !== undefined) return 'has x-max-priority (quorum queues have no priorities)'
  const type = q.arguments?.['x-queue-type']
  if (type !== undefined && type !== 'classic' && type !== 'quorum') return `is a ${String(type)} queue`
  return undefined
}

/**
 * `evt provision --queue-type quorum` (and `evt up --queue-type quorum`): the same topology with the
 * work queues as quorum queues. Every durable, non-auto-delete classic queue becomes a quorum queue with
 * a delivery limit (x-delivery-limit, default 20, so a poison message stops being redelivered), and a
 * queue that dead-letters gets at-least-once dead-lettering (x-dead-letter-strategy at-least-once, which
 * needs x-overflow reject-publish: a full queue refuses publishes instead of dropping its head).
 * Classic-only arguments are dropped. Queues that cannot be quorum stay classic, with the reason.
 * RabbitMQ cannot change an existing queue's type: apply it to a fresh broker (or --force).
 */
export function toQuorumQueues(defs: Definitions, options: {deliveryLimit?: number} = {}): QuorumRewrite {
  const rewritten: string[] = []
  const kept: Record<string, string> = {}
  const queues = defs.queues.map((q) => {
    const id = `${q.vhost}/${q.name}`
    const why = whyNotQuorum(q)
    if (why) {
      kept[id] = why
      return q
    }
    const args: Record<string, unknown> = {...(q.arguments ?? {})}
    for (const key of CLASSIC_ONLY) delete args[key]
    args['x-queue-type'] = 'quorum'
    if (args['x-delivery-limit'] === undefined)
      args['x-delivery-limit'] = options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT
    if (args['x-dead-letter-exchange'] !== undefined) {
      args['x-dead-letter-strategy'] = 'at-least-once'
      args['x-overflow'] = 'reject-publish'
    }
    rewritten.push(id)
    return {...q, arguments: args}
  })
  return {definitions: {...defs, queues}, rewritten, kept}
}
