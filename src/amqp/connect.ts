import type {ChannelModel} from 'amqplib'
import {maskUrl, parseAmqpUrl} from '../config/url.js'
import {EvtError, UnreachableError} from '../errors.js'

export interface ConnectOptions {
  /** Give up connecting after this long (default 5 s). */
  timeoutMs?: number
  /** Shown in the broker's connection list. */
  connectionName?: string
  heartbeatSeconds?: number
}

/**
 * Open an AMQP connection the way every evt command does: Nagle off (amqplib leaves it on, which
 * costs ~40 ms a round trip), a bounded connect time, and failures turned into one clear line.
 */
export async function connectAmqp(url: string, options: ConnectOptions = {}): Promise<ChannelModel> {
  const amqp = await import('amqplib')
  const timeout = options.timeoutMs ?? 5000
  const parts = amqpConnectParts(url)
  // A deadline for the whole connect (TCP, TLS, handshake), not an idle timer: a server that trickles bytes
  // must not hold us forever. Aborting the signal destroys the socket.
  const abort = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ConnectDeadlineError(timeout)
      abort.abort(err)
      reject(err)
    }, timeout)
  })
  // Passed through to net.connect, whose `signal` destroys the socket.
  const socketOptions = {
    noDelay: true,
    timeout,
    signal: abort.signal,
    clientProperties: {connection_name: options.connectionName ?? 'evt'},
  }
  const attempt = amqp.connect({...parts, heartbeat: options.heartbeatSeconds ?? 30}, socketOptions)
  try {
    return await Promise.race([attempt, deadline])
  } catch (err) {
    // A connection that opens after all is closed, not leaked.
    attempt.then(
      (c) => c.close().catch(() => undefined),
      () => undefined,
    )
    throw describeConnectError(err, url)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The first of several URLs that answers: a cluster's nodes, the one asked for first. Access refused or a
 * missing vhost is the same on every node, so it ends the search; only an unreachable node moves on. When none
 * answers, the error is the first URL's.
 */
export async function connectFirst(urls: string[], options: ConnectOptions = {}): Promise<ChannelModel> {
  let first: EvtError | undefined
  for (const url of urls) {
    try {
      return await connectAmqp(url, options)
    } catch (err) {
      const described = describeConnectError(err, url)
      first ??= described
      if (!isUnreachableNode(described.cause ?? err)) throw described
    }
  }
  throw first ?? new UnreachableError('no broker URL to connect to', 'Pass --url or run `evt up`')
}

function isUnreachableNode(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code ?? '')
}

/** The connect deadline passed. */
export class ConnectDeadlineError extends Error {
  readonly code = 'ETIMEDOUT'
  constructor(readonly timeoutMs: number) {
    super(`connect timed out after ${timeoutMs} ms`)
    this.name = 'ConnectDeadlineError'
  }
}

function amqpConnectParts(url: string) {
  const p = parseAmqpUrl(url)
  return {
    protocol: p.protocol,
    hostname: p.host,
    port: p.port,
    username: p.username,
    password: p.password,
    vhost: p.vhost ?? '/',
    frameMax: 0x20000,
  }
}

/** Turn a socket or handshake failure into an exit-3 error that says what to do. */
export function describeConnectError(err: unknown, url: string): EvtError {
  if (err instanceof EvtError) return err
  const e = err as NodeJS.ErrnoException & {message?: string}
  const masked = maskUrl(url)
  let parts: ReturnType<typeof parseAmqpUrl> | undefined
  try {
    parts = parseAmqpUrl(url)
  } catch {
    return new EvtError(`invalid broker URL ${masked}`, {
      exitCode: 2,
      hint: 'Use amqp://user:password@host:5672[/vhost]',
    })
  }
  const where = `${parts.host}:${parts.port}`
  const msg = String(e?.message ?? e)
  const startHint = 'Start one with `evt up`, or pass --url / set RABBITMQ_URL'
  if (e?.code === 'ECONNREFUSED') return new UnreachableError(`nothing is listening at ${masked}`, startHint, err)
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN')
    return new UnreachableError(`cannot resolve host ${parts.host} (${masked})`, 'Check the host name in --url', err)
  if (err instanceof ConnectDeadlineError)
    return new UnreachableError(
      `no complete answer from ${where} (${masked}) within ${err.timeoutMs / 1000} s`,
      'Check that it is a RabbitMQ AMQP port and that the broker is healthy',
      err,
    )
  if (e?.code === 'ETIMEDOUT' || /timeout|timed out/i.test(msg))
    return new UnreachableError(`no answer from ${where} (${masked}) in time`, startHint, err)
  if (/ACCESS_REFUSED|ACCESS-REFUSED|403/.test(msg) || /PLAIN login refused/i.test(msg))
    return new UnreachableError(
      `access refused for user ${parts.username} at ${where}`,
      'Check the user name and password in --url / RABBITMQ_URL',
      err,
    )
  // amqplib reports a refused Connection.Open (unknown vhost, or no permission on it) without the reason.
  if (/NOT_ALLOWED|vhost .* not found|access to vhost|Expected ConnectionOpenOk; got <ConnectionClose/i.test(msg))
    return new UnreachableError(
      `vhost "${parts.vhost ?? '/'}" not found, or user ${parts.username} has no access to it, at ${where}`,
      'Create it with `evt provision`, or choose another with --vhost',
      err,
    )
  if (e?.code === 'ECONNRESET' || /socket closed|Unexpected close/i.test(msg))
    return new UnreachableError(`the broker at ${masked} closed the connection during the handshake`, startHint, err)
  return new UnreachableError(`cannot connect to ${masked}: ${msg}`, startHint, err)
}
