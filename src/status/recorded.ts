import {attachBroker} from '../broker/index.js'
import {isSameProcess} from '../broker/process.js'
import type {BrokerRecord, RuntimeKind} from '../broker/types.js'
import {listBrokerRecords} from '../config/state.js'
import {maskUrl} from '../config/url.js'
import {renderTable} from '../ui/table.js'

/**
 * running: answers AMQP; starting: its `evt up` is still starting it; stopped: `evt down --keep-data`;
 * interrupted: its `evt up` died while starting it (the next `evt up` or `evt down` cleans it);
 * down: recorded as running but does not answer.
 */
export type Liveness = 'running' | 'starting' | 'stopped' | 'interrupted' | 'down'

export interface RecordedBroker {
  name: string
  runtime: RuntimeKind
  liveness: Liveness
  amqpUrl: string
  node?: string
  startedAt: string
}

export interface RecordedBrokers {
  home: string
  brokers: RecordedBroker[]
}

export async function recordedBrokers(home: string): Promise<RecordedBrokers> {
  const records = await listBrokerRecords(home)
  const brokers = await Promise.all(
    records.map(async (r) => ({
      name: r.name,
      runtime: r.runtime,
      liveness: await liveness(r),
      amqpUrl: maskUrl(r.amqpUrl),
      node:
        r.local?.nodeName ??
        (r.cluster ? `cluster of ${r.cluster.nodes.length}: ${r.cluster.nodes[0].nodeName} ...` : undefined) ??
        r.container?.id.slice(0, 12),
      startedAt: r.startedAt,
    })),
  )
  return {home, brokers}
}

async function liveness(record: BrokerRecord): Promise<Liveness> {
  const answers = await attachBroker(record)
    .isRunning()
    .catch(() => false)
  if (answers) return 'running'
  if (record.state === 'starting') {
    return record.owner && isSameProcess(record.owner.pid, record.owner.startTime) ? 'starting' : 'interrupted'
  }
  return record.state === 'stopped' ? 'stopped' : 'down'
}

export function formatRecordedBrokers(list: RecordedBrokers): string {
  if (list.brokers.length === 0) return `No broker is recorded in ${list.home}.`
  return [
    `Brokers recorded in ${list.home}:`,
    renderTable(
      ['name', 'runtime', 'state', 'amqp', 'node'],
      list.brokers.map((b) => [b.name, b.runtime, b.liveness, b.amqpUrl, b.node ?? '']),
    ),
  ].join('\n')
}
