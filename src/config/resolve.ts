import type {BrokerRecord} from '../broker/types.js'
import {deriveManagementUrl, parseAmqpUrl} from './url.js'

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@localhost:5672'

export type SettingSource = 'flag' | 'env' | 'state' | 'default'

export interface ConnectionInput {
  url?: string
  managementUrl?: string
  vhost?: string
}

export interface ConnectionSettings {
  /** With credentials; show it only through maskUrl. */
  amqpUrl: string
  managementUrl: string
  /** The vhost to work in; undefined means the URL's own (or "/"). */
  vhost?: string
  source: SettingSource
  managementSource: SettingSource | 'derived'
  /** The `evt up` broker this came from, when it did. */
  broker?: BrokerRecord
}

/**
 * Where the broker is. Precedence: flag, then env (RABBITMQ_URL, RABBITMQ_MANAGEMENT_URL, EVT_VHOST),
 * then the broker recorded by `evt up`, then amqp://guest:guest@localhost:5672.
 */
export function resolveConnection(
  flags: ConnectionInput,
  env: NodeJS.ProcessEnv,
  record?: BrokerRecord,
): ConnectionSettings {
  let amqpUrl: string
  let source: SettingSource
  if (flags.url) {
    amqpUrl = flags.url
    source = 'flag'
  } else if (env.RABBITMQ_URL) {
    amqpUrl = env.RABBITMQ_URL
    source = 'env'
  } else if (record) {
    amqpUrl = record.amqpUrl
    source = 'state'
  } else {
    amqpUrl = DEFAULT_AMQP_URL
    source = 'default'
  }

  let managementUrl: string
  let managementSource: ConnectionSettings['managementSource']
  if (flags.managementUrl) {
    managementUrl = flags.managementUrl
    managementSource = 'flag'
  } else if (env.RABBITMQ_MANAGEMENT_URL) {
    managementUrl = env.RABBITMQ_MANAGEMENT_URL
    managementSource = 'env'
  } else if (source === 'state' && record) {
    managementUrl = record.managementUrl
    managementSource = 'state'
  } else {
    managementUrl = deriveManagementUrl(amqpUrl)
    managementSource = 'derived'
  }
  managementUrl = withCredentialsFrom(managementUrl, amqpUrl)

  const vhost = flags.vhost ?? env.EVT_VHOST ?? parseAmqpUrl(amqpUrl).vhost
  return {amqpUrl, managementUrl, vhost, source, managementSource, broker: source === 'state' ? record : undefined}
}

/** A management URL given without credentials borrows the AMQP URL's (the same user, as is usual). */
function withCredentialsFrom(managementUrl: string, amqpUrl: string): string {
  const url = new URL(managementUrl)
  if (url.username) return managementUrl
  const p = parseAmqpUrl(amqpUrl)
  url.username = encodeURIComponent(p.username)
  url.password = encodeURIComponent(p.password)
  return url.toString().replace(/\/$/, '')
}
