/** URL helpers. Every URL evt shows a person goes through maskUrl first. */

const SECRET_PARAMS = /^(password|pass|pwd|token|secret)$/i

export function maskUrl(raw: string): string {
  // No scheme ("user:pass@host:5672"): URL would read "user:" as the scheme and keep the password.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return raw.replace(/^([^:/@]*):[^@]*@/, '$1:****@')
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // Not a URL we can parse: hide anything that looks like user:pass@.
    return raw.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:****@')
  }
  let changed = false
  if (url.password) {
    url.password = '****'
    changed = true
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) {
      url.searchParams.set(key, '****')
      changed = true
    }
  }
  if (!changed) return raw
  const masked = url.toString()
  // URL adds a "/" after a bare host: keep the user's form.
  return !raw.endsWith('/') && masked.endsWith('/') && url.pathname === '/' ? masked.slice(0, -1) : masked
}

/** Replace any URL inside free text (error messages from libraries) with its masked form. */
export function maskUrlsIn(text: string): string {
  return text.replace(/\b(amqps?|https?):\/\/[^\s'"]+/g, (m) => maskUrl(m))
}

export interface AmqpUrlParts {
  protocol: 'amqp' | 'amqps'
  host: string
  port: number
  username: string
  password: string
  /** undefined when the URL names no vhost (RabbitMQ's default "/"). */
  vhost?: string
}

export function parseAmqpUrl(raw: string): AmqpUrlParts {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new TypeError(`not a URL: ${maskUrl(raw)}`)
  }
  const protocol = url.protocol.replace(/:$/, '')
  if (protocol !== 'amqp' && protocol !== 'amqps') {
    throw new TypeError(`not an AMQP URL (expected amqp:// or amqps://): ${maskUrl(raw)}`)
  }
  const path = url.pathname.replace(/^\//, '')
  return {
    protocol,
    host: url.hostname || 'localhost',
    port: url.port ? Number(url.port) : protocol === 'amqps' ? 5671 : 5672,
    username: url.username ? decodeURIComponent(url.username) : 'guest',
    password: url.password ? decodeURIComponent(url.password) : 'guest',
    vhost: path === '' ? undefined : decodeURIComponent(path),
  }
}

export function buildAmqpUrl(parts: AmqpUrlParts): string {
  const auth = `${encodeURIComponent(parts.username)}:${encodeURIComponent(parts.password)}@`
  const vhost = parts.vhost === undefined ? '' : `/${encodeURIComponent(parts.vhost)}`
  const host = parts.host.includes(':') ? `[${parts.host}]` : parts.host
  return `${parts.protocol}://${auth}${host}:${parts.port}${vhost}`
}

/** A management API base URL with credentials (an IPv6 host in brackets). */
export function buildManagementUrl(parts: {host: string; port: number; username: string; password: string}): string {
  const host = parts.host.includes(':') ? `[${parts.host}]` : parts.host
  return `http://${encodeURIComponent(parts.username)}:${encodeURIComponent(parts.password)}@${host}:${parts.port}`
}

/** The same broker URL pointed at another vhost. */
export function withVhost(raw: string, vhost: string | undefined): string {
  return buildAmqpUrl({...parseAmqpUrl(raw), vhost})
}

/**
 * The management API next to an AMQP URL: same host and credentials; port 15672 for 5672
 * (and 15671 for amqps), otherwise the AMQP port + 10000, which is the convention
 * RabbitMQ's own docs and most port mappings follow.
 */
export function deriveManagementUrl(amqpUrl: string): string {
  const p = parseAmqpUrl(amqpUrl)
  const port = p.port === 5672 ? 15672 : p.port === 5671 ? 15671 : p.port + 10000
  const scheme = p.protocol === 'amqps' ? 'https' : 'http'
  const host = p.host.includes(':') ? `[${p.host}]` : p.host
  return `${scheme}://${encodeURIComponent(p.username)}:${encodeURIComponent(p.password)}@${host}:${port}`
}

export interface HttpCredentials {
  baseUrl: string
  username: string
  password: string
}

/** Split credentials out of a management URL (fetch refuses URLs that carry them). */
export function splitHttpCredentials(raw: string, fallback?: {username: string; password: string}): HttpCredentials {
  const url = new URL(raw)
  const username = url.username ? decodeURIComponent(url.username) : (fallback?.username ?? 'guest')
  const password = url.password ? decodeURIComponent(url.password) : (fallback?.password ?? 'guest')
  url.username = ''
  url.password = ''
  return {baseUrl: url.toString().replace(/\/$/, ''), username, password}
}
