import {maskUrl, splitHttpCredentials} from '../config/url.js'
import {EvtError, UnreachableError} from '../errors.js'

export class ManagementHttpError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${method} ${path} → HTTP ${status}: ${reason}`)
    this.name = 'ManagementHttpError'
  }
}

export interface Overview {
  rabbitmq_version: string
  erlang_version: string
  cluster_name: string
  node: string
  management_version?: string
  [key: string]: unknown
}

export interface QueueInfo {
  name: string
  vhost: string
  durable: boolean
  auto_delete: boolean
  exclusive: boolean
  arguments: Record<string, unknown>
  type?: string
  messages?: number
  messages_ready?: number
  messages_unacknowledged?: number
  consumers?: number
  state?: string
  /** Quorum queues: the node of the leader, the members, those online; classic queues: node. */
  leader?: string
  members?: string[]
  online?: string[]
  node?: string
}

/** The RabbitMQ management HTTP API: a thin typed client with errors that say what to do. */
export class ManagementClient {
  readonly baseUrl: string
  private readonly auth: string

  constructor(
    managementUrl: string,
    private readonly timeoutMs = 5000,
  ) {
    const {baseUrl, username, password} = splitHttpCredentials(managementUrl)
    this.baseUrl = baseUrl
    this.auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
    this.username = username
  }

  readonly username: string

  /** The URL without credentials, for messages. */
  get displayUrl(): string {
    return maskUrl(this.baseUrl)
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.baseUrl}/api${path}`, {
        method,
        headers: {
          authorization: this.auth,
          ...(body === undefined ? {} : {'content-type': 'application/json'}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (err) {
      throw new UnreachableError(
        `the management API is not reachable at ${this.displayUrl}`,
        'Enable the rabbitmq_management plugin, or point --management-url / RABBITMQ_MANAGEMENT_URL at it',
        err,
      )
    }
    let text: string
    try {
      text = await res.text()
    } catch (err) {
      // Headers came, then the body stalled past the deadline (or the connection dropped): unreachable, exit 3.
      throw new UnreachableError(
        `the management API at ${this.displayUrl} stopped answering in the middle of a response (${method} ${path})`,
        'Check that the broker is healthy (evt status), or raise its resources',
        err,
      )
    }
    if (res.status === 401 && !(await this.refusalNotLogin(path))) {
      throw new UnreachableError(
        `access refused for user ${this.username} by the management API at ${this.displayUrl}`,
        'Check the credentials in --management-url / --url (the user needs the management or administrator tag)',
      )
    }
    if (!res.ok) {
      let reason = text
      try {
        const parsed = JSON.parse(text) as {reason?: unknown; error?: unknown}
        reason = describeReason(parsed.reason ?? parsed.error ?? text)
      } catch {
        // keep the raw text
      }
      throw new ManagementHttpError(res.status, method, path, reason)
    }
    return (text ? JSON.parse(text) : undefined) as T
  }

  /**
   * The management API answers 401 both to bad credentials and to an action the user may not take (a
   * name starting with amq., another user's vhost): if the credentials still log in, it was a refusal.
   */
  private async refusalNotLogin(path: string): Promise<boolean> {
    if (path === '/whoami') return false
    try {
      const res = await fetch(`${this.baseUrl}/api/whoami`, {
        headers: {authorization: this.auth},
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      return res.ok
    } catch {
      return false
    }
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path)
  }
  put(path: string, body: unknown): Promise<unknown> {
    return this.request('PUT', path, body)
  }
  post(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, body)
  }
  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path)
  }

  overview(): Promise<Overview> {
    return this.get<Overview>('/overview')
  }

  async vhostExists(vhost: string): Promise<boolean> {
    try {
      await this.get(`/vhosts/${enc(vhost)}`)
      return true
    } catch (err) {
      if (err instanceof ManagementHttpError && err.status === 404) return false
      throw err
    }
  }

  /** Create a vhost and give `user` full permissions on it. */
  async createVhost(vhost: string, user = this.username): Promise<void> {
    await this.put(`/vhosts/${enc(vhost)}`, {})
    await this.put(`/permissions/${enc(vhost)}/${enc(user)}`, {configure: '.*', write: '.*', read: '.*'})
  }

  async deleteVhost(vhost: string): Promise<void> {
    try {
      await this.delete(`/vhosts/${enc(vhost)}`)
    } catch (err) {
      if (!(err instanceof ManagementHttpError && err.status === 404)) throw err
    }
  }

  listQueues(vhost?: string): Promise<QueueInfo[]> {
    return this.get<QueueInfo[]>(vhost === undefined ? '/queues' : `/queues/${enc(vhost)}`)
  }
}

/**
 * The broker's reason as a sentence. Import errors come as Erlang terms rendered to JSON:
 * `["amqp_error","precondition_failed",[105,110,...],"none"]` (a char list), `["no_such_user","ghost"]`,
 * or strings with HTML escapes and blank lines.
 */
export function describeReason(reason: unknown): string {
  const charList = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((c) => Number.isInteger(c) && c >= 0 && c <= 0x10ffff)
  const text = (v: unknown): string => {
    if (typeof v === 'string') return v
    if (charList(v)) return String.fromCodePoint(...v)
    if (Array.isArray(v)) {
      if (v[0] === 'amqp_error' && v.length >= 3) return `${text(v[1])}: ${text(v[2])}`
      return v.map(text).join(' ')
    }
    return JSON.stringify(v)
  }
  return text(reason)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s*\n+\s*/g, ' ')
    .trim()
}

export function enc(segment: string): string {
  return encodeURIComponent(segment)
}

/** A management failure as an exit code: HTTP 4xx from a bad request is the user's input (2), the rest 3. */
export function describeManagementError(err: unknown): EvtError | undefined {
  if (err instanceof EvtError) return err
  if (err instanceof ManagementHttpError) {
    return new EvtError(`management API: ${err.reason} (${err.method} ${err.path}, HTTP ${err.status})`, {
      exitCode: err.status >= 400 && err.status < 500 ? 2 : 3,
    })
  }
  return undefined
}
