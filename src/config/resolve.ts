import type {BrokerRecord} from '../broker/types.js'
import {UnreachableError, UsageError} from '../errors.js'
import {DEFAULT_BROKER_NAME, validateBrokerName} from './state.js'
import {deriveManagementUrl, maskUrl, parseAmqpUrl} from './url.js'

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@localhost:5672'

export type SettingSource = 'flag' | 'env' | 'state' | 'default'

export interface ConnectionInput {
  url?: string
  managementUrl?: string
  vhost?: string
}

/** How a recorded broker was chosen: named by --name or EVT_BROKER, the only one recorded, or the one called default. */
export type RecordChoice = 'flag' | 'env' | 'project' | 'only' | 'default'

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
  /** Where these settings came from, in words, for error messages ("the broker \"ci\" recorded in ..."). */
  origin?: string
}

/** What the user said about which broker, and what is recorded. */
export interface BrokerChoiceInput {
  /** --name, when given. */
  flagName?: string
  /** --url, when given. */
  flagUrl?: string
  /** broker.name of the project's evt.yaml, when set. */
  projectName?: string
  env: NodeJS.ProcessEnv
  /** The state folder, for messages. */
  home: string
  /** Names of the brokers recorded there. */
  recorded: string[]
}

export type BrokerChoice =
  | {kind: 'record'; name: string; how: RecordChoice}
  | {kind: 'url'; source: 'flag' | 'env'}
  | {kind: 'default'}

/**
 * Which broker a command talks to; it never guesses:
 * 1. --url; 2. --name, then EVT_BROKER: that recorded broker, or exit 3 naming what is recorded;
 * 3. RABBITMQ_URL; 4. the only recorded broker, or the one called "default"; several others: exit 2 naming them;
 * 5. amqp://guest:guest@localhost:5672.
 */
export function chooseBroker(input: BrokerChoiceInput): BrokerChoice {
  if (input.flagUrl !== undefined && input.flagName !== undefined) {
    throw new UsageError('--url and --name both say which broker to use', 'Give one of them')
  }
  if (input.flagUrl !== undefined) return {kind: 'url', source: 'flag'}
  const named =
    input.flagName !== undefined
      ? {name: input.flagName, how: 'flag' as const}
      : input.env.EVT_BROKER
        ? {name: input.env.EVT_BROKER, how: 'env' as const}
        : input.projectName
          ? {name: input.projectName, how: 'project' as const}
          : undefined
  if (named) {
    validateBrokerName(named.name, {flag: '--name', env: 'EVT_BROKER', project: 'broker.name in evt.yaml'}[named.how])
    if (input.recorded.includes(named.name)) return {kind: 'record', ...named}
    throw new UnreachableError(
      `no broker "${named.name}" is recorded in ${input.home}${{flag: '', env: ' (EVT_BROKER)', project: ' (broker.name in evt.yaml)'}[named.how]}`,
      `${recordedList(input.recorded)}. Start it with \`evt up --name ${named.name}\`, or run from the folder where you ran \`evt up\` (or set EVT_HOME)`,
    )
  }
  if (input.env.RABBITMQ_URL) return {kind: 'url', source: 'env'}
  if (input.recorded.length === 1) return {kind: 'record', name: input.recorded[0], how: 'only'}
  if (input.recorded.includes(DEFAULT_BROKER_NAME)) return {kind: 'record', name: DEFAULT_BROKER_NAME, how: 'default'}
  if (input.recorded.length > 1) {
    throw new UsageError(
      `several brokers are recorded in ${input.home} (${input.recorded.join(', ')}) and none is called "default"`,
      'Choose one with --name or EVT_BROKER',
    )
  }
  return {kind: 'default'}
}

export function recordedList(names: string[]): string {
  return names.length === 0 ? 'No broker is recorded there' : `Recorded: ${names.join(', ')}`
}

/**
 * Where the broker is. AMQP: --url, then a broker named by --name/EVT_BROKER, then RABBITMQ_URL, then the
 * broker recorded by `evt up`, then amqp://guest:guest@localhost:5672 (chooseBroker says which applies).
 * Management: --management-url, RABBITMQ_MANAGEMENT_URL, the record's, or derived from the AMQP URL.
 * `named` is true when the record was named explicitly (it then wins over RABBITMQ_URL).
 */
export function resolveConnection(
  flags: ConnectionInput,
  env: NodeJS.ProcessEnv,
  record?: BrokerRecord,
  options: {named?: boolean; origin?: string} = {},
): ConnectionSettings {
  let amqpUrl: string
  let source: SettingSource
  if (flags.url) {
    amqpUrl = checkedUrl(flags.url, '--url', 'amqp')
    source = 'flag'
  } else if (record && options.named) {
    amqpUrl = record.amqpUrl
    source = 'state'
  } else if (env.RABBITMQ_URL) {
    amqpUrl = checkedUrl(env.RABBITMQ_URL, 'RABBITMQ_URL', 'amqp')
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
    managementUrl = checkedUrl(flags.managementUrl, '--management-url', 'http')
    managementSource = 'flag'
  } else if (env.RABBITMQ_MANAGEMENT_URL) {
    managementUrl = checkedUrl(env.RABBITMQ_MANAGEMENT_URL, 'RABBITMQ_MANAGEMENT_URL', 'http')
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
  const broker = source === 'state' ? record : undefined
  const origin =
    options.origin ??
    (source === 'flag'
      ? '--url'
      : source === 'env'
        ? 'RABBITMQ_URL'
        : source === 'state'
          ? `the broker "${record?.name}" recorded by \`evt up\``
          : `the default ${maskUrl(DEFAULT_AMQP_URL)}`)
  return {amqpUrl, managementUrl, vhost, source, managementSource, broker, origin}
}

/** A recorded cluster's other nodes (AMQP URLs), for a client to fall back on when its node is gone; else none. */
export function otherNodeUrls(settings: ConnectionSettings): string[] {
  const record = settings.broker
  return (record?.cluster?.amqpUrls ?? []).filter((u) => u !== record?.amqpUrl)
}

/** A URL from the user that is not a URL of the right kind is bad usage (exit 2), said before any connection. */
export function checkedUrl(raw: string, from: string, kind: 'amqp' | 'http'): string {
  const example = kind === 'amqp' ? 'amqp://user:password@host:5672[/vhost]' : 'http://user:password@host:15672'
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {
    url = undefined
  }
  const schemes = kind === 'amqp' ? ['amqp:', 'amqps:'] : ['http:', 'https:']
  if (!url || !schemes.includes(url.protocol) || !url.hostname) {
    throw new UsageError(
      `${from} is not a valid ${kind === 'amqp' ? 'AMQP' : 'HTTP'} URL: ${maskUrl(raw)}`,
      `Use ${example}`,
    )
  }
  return raw
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
