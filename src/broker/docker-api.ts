/**
 * The few Docker Engine API calls evt makes itself, over DOCKER_HOST (unix socket, or tcp with optional TLS),
 * without loading Testcontainers: is the engine there, is the image there or pullable, which containers carry
 * evt's labels, stop/start/kill/remove one, read its last log lines. Fast enough for `evt down` and `auto`.
 */
import {readFileSync} from 'node:fs'
import {request as httpRequest, type RequestOptions} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {join} from 'node:path'

/** Labels on every container `evt up` or a library start makes. */
export const LABEL_BROKER = 'evt.broker'
export const LABEL_STATE = 'evt.state'
export const LABEL_RUN = 'evt.run'
/** On every member of a container cluster and on its network. */
export const LABEL_CLUSTER = 'evt.cluster'
/** Older evt versions labelled with this. */
export const LEGACY_LABEL = 'dev.evt.broker'

export interface DockerEndpoint {
  /** What the user would recognise: unix:///var/run/docker.sock, tcp://host:2376. */
  address: string
  socketPath?: string
  hostname?: string
  port?: number
  tls?: {ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean}
}

/** Where the engine is: DOCKER_HOST (unix:// or tcp://, with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH), else the default socket. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const host = env.DOCKER_HOST?.trim()
  if (!host) return {address: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock'}
  if (host.startsWith('unix://')) return {address: host, socketPath: host.slice('unix://'.length)}
  if (host.startsWith('tcp://') || host.startsWith('http://') || host.startsWith('https://')) {
    const u = new URL(host.replace(/^tcp:/, 'http:'))
    const tlsWanted = Boolean(env.DOCKER_TLS_VERIFY) || host.startsWith('https://') || u.port === '2376'
    let tls: DockerEndpoint['tls']
    if (tlsWanted) {
      const dir = env.DOCKER_CERT_PATH
      const read = (f: string) => {
        try {
          return dir ? readFileSync(join(dir, f)) : undefined
        } catch {
          return undefined
        }
      }
      tls = {ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), verify: Boolean(env.DOCKER_TLS_VERIFY)}
    }
    return {address: host, hostname: u.hostname, port: Number(u.port || (tls ? 2376 : 2375)), tls}
  }
  // ssh:// and npipe:// are Testcontainers' business; evt's own calls cannot reach them.
  return {address: host}
}

export class DockerApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message)
    this.name = 'DockerApiError'
  }
}

interface CallOptions {
  method?: string
  body?: unknown
  timeoutMs?: number
  endpoint?: DockerEndpoint
}

/** One API call; resolves with the status and the raw body; rejects only when the engine cannot be reached. */
export function dockerCall(path: string, options: CallOptions = {}): Promise<{status: number; body: Buffer}> {
  const ep = options.endpoint ?? dockerEndpoint()
  if (!ep.socketPath && !ep.hostname) {
    return Promise.reject(new Error(`evt cannot reach ${ep.address} itself (use unix:// or tcp://)`))
  }
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body))
  const req: RequestOptions & {ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean} = {
    socketPath: ep.socketPath,
    hostname: ep.hostname,
    port: ep.port,
    path,
    method: options.method ?? 'GET',
    headers: payload ? {'content-type': 'application/json', 'content-length': payload.length} : {},
    timeout: options.timeoutMs ?? 10_000,
  }
  if (ep.tls) Object.assign(req, {ca: ep.tls.ca, cert: ep.tls.cert, key: ep.tls.key, rejectUnauthorized: ep.tls.verify})
  const send = ep.tls ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const r = send(req, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks)}))
      res.on('error', reject)
    })
    r.on('timeout', () => r.destroy(new Error(`${ep.address} did not answer in ${req.timeout} ms`)))
    r.on('error', reject)
    r.end(payload)
  })
}

async function call(path: string, options: CallOptions = {}, ok: number[] = [200, 201, 204, 304]) {
  const res = await dockerCall(path, options)
  if (!ok.includes(res.status)) {
    let message = res.body.toString('utf8').trim()
    try {
      message = (JSON.parse(message) as {message?: string}).message ?? message
    } catch {
      // plain text
    }
    throw new DockerApiError(message || `HTTP ${res.status}`, res.status)
  }
  return res
}

/** Whether the engine answers GET /_ping (no Testcontainers strategy search: ~ms, or false after timeoutMs). */
export async function dockerAnswers(env: NodeJS.ProcessEnv = process.env, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await dockerCall('/_ping', {endpoint: dockerEndpoint(env), timeoutMs})
    return res.status === 200
  } catch {
    return false
  }
}

/** Whether the image is in the engine. */
export async function imagePresent(image: string, endpoint?: DockerEndpoint): Promise<boolean> {
  const res = await dockerCall(`/images/${encodeURIComponent(image)}/json`, {endpoint})
  return res.status === 200
}

/**
 * Whether the engine can pull the image: it asks the registry for the manifest (GET /distribution), without
 * pulling. Resolves with undefined when it can, else the registry's or the network's reason.
 */
export async function imagePullable(
  image: string,
  timeoutMs = 5000,
  endpoint?: DockerEndpoint,
): Promise<string | undefined> {
  try {
    await call(`/distribution/${encodeURIComponent(image)}/json`, {timeoutMs, endpoint})
    return undefined
  } catch (err) {
    return (err as Error).message.split('\n')[0]
  }
}

export interface ContainerSummary {
  Id: string
  Names: string[]
  Image: string
  State: string
  Labels: Record<string, string>
}

/** Containers (running or not) that carry all of these labels. */
export async function listByLabels(
  labels: Record<string, string>,
  endpoint?: DockerEndpoint,
): Promise<ContainerSummary[]> {
  const filters = JSON.stringify({label: Object.entries(labels).map(([k, v]) => `${k}=${v}`)})
  const res = await call(`/containers/json?all=true&filters=${encodeURIComponent(filters)}`, {endpoint})
  return JSON.parse(res.body.toString('utf8')) as ContainerSummary[]
}

export interface ContainerInspect {
  Id: string
  State: {Status: string; Running: boolean; ExitCode: number}
  Config: {Image: string; Labels: Record<string, string>}
}

/** The container, or undefined when it does not exist. */
export async function inspectContainer(id: string, endpoint?: DockerEndpoint): Promise<ContainerInspect | undefined> {
  const res = await call(`/containers/${encodeURIComponent(id)}/json`, {endpoint}, [200, 404])
  return res.status === 404 ? undefined : (JSON.parse(res.body.toString('utf8')) as ContainerInspect)
}

/** Remove it with its anonymous volumes, running or not; a container already gone is fine. */
export async function removeContainer(id: string, endpoint?: DockerEndpoint): Promise<void> {
  await call(
    `/containers/${encodeURIComponent(id)}?force=true&v=true`,
    {method: 'DELETE', endpoint, timeoutMs: 30_000},
    [200, 204, 404, 409],
  )
}

/** Remove every container that carries these labels; resolves with how many there were. */
export async function removeByLabels(labels: Record<string, string>, endpoint?: DockerEndpoint): Promise<number> {
  const found = await listByLabels(labels, endpoint)
  await Promise.all(found.map((c) => removeContainer(c.Id, endpoint)))
  return found.length
}

/** Create a private bridge network carrying these labels; resolves with its id. */
export async function createNetwork(
  name: string,
  labels: Record<string, string>,
  endpoint?: DockerEndpoint,
): Promise<string> {
  const res = await call('/networks/create', {
    method: 'POST',
    endpoint,
    body: {Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels},
  })
  return (JSON.parse(res.body.toString('utf8')) as {Id: string}).Id
}

/** The networks that carry all of these labels. */
export async function listNetworksByLabels(
  labels: Record<string, string>,
  endpoint?: DockerEndpoint,
): Promise<{Id: string; Name: string}[]> {
  const filters = JSON.stringify({label: Object.entries(labels).map(([k, v]) => `${k}=${v}`)})
  const res = await call(`/networks?filters=${encodeURIComponent(filters)}`, {endpoint})
  return JSON.parse(res.body.toString('utf8')) as {Id: string; Name: string}[]
}

/** Remove every network that carries these labels (their containers must be gone); resolves with how many. */
export async function removeNetworksByLabels(
  labels: Record<string, string>,
  endpoint?: DockerEndpoint,
): Promise<number> {
  const found = await listNetworksByLabels(labels, endpoint)
  for (const n of found) await call(`/networks/${n.Id}`, {method: 'DELETE', endpoint}, [200, 204, 404])
  return found.length
}

/** Take a container off a network (a partition); one already off is fine. */
export async function disconnectNetwork(network: string, container: string, endpoint?: DockerEndpoint): Promise<void> {
  await call(`/networks/${encodeURIComponent(network)}/disconnect`, {
    method: 'POST',
    endpoint,
    body: {Container: container, Force: true},
  }).catch((err: DockerApiError) => {
    if (!/is not connected/i.test(err.message)) throw err
  })
}

/** Put a container back on a network under its alias; one already on it is fine. */
export async function connectNetwork(
  network: string,
  container: string,
  aliases: string[],
  endpoint?: DockerEndpoint,
): Promise<void> {
  await call(`/networks/${encodeURIComponent(network)}/connect`, {
    method: 'POST',
    endpoint,
    body: {Container: container, EndpointConfig: {Aliases: aliases}},
  }).catch((err: DockerApiError) => {
    if (!/already exists|already attached|is already connected/i.test(err.message)) throw err
  })
}

/** The networks a container is on now (their names). */
export async function containerNetworks(id: string, endpoint?: DockerEndpoint): Promise<string[]> {
  const res = await call(`/containers/${encodeURIComponent(id)}/json`, {endpoint}, [200, 404])
  if (res.status === 404) return []
  const info = JSON.parse(res.body.toString('utf8')) as {NetworkSettings?: {Networks?: Record<string, unknown>}}
  return Object.keys(info.NetworkSettings?.Networks ?? {})
}

/** Graceful stop: SIGTERM, then SIGKILL after timeoutSeconds. */
export async function stopContainer(id: string, timeoutSeconds = 30, endpoint?: DockerEndpoint): Promise<void> {
  await call(
    `/containers/${encodeURIComponent(id)}/stop?t=${timeoutSeconds}`,
    {method: 'POST', endpoint, timeoutMs: (timeoutSeconds + 15) * 1000},
    [204, 304],
  )
}

export async function startExisting(id: string, endpoint?: DockerEndpoint): Promise<void> {
  await call(`/containers/${encodeURIComponent(id)}/start`, {method: 'POST', endpoint, timeoutMs: 30_000}, [204, 304])
}

export async function killContainer(id: string, signal = 'SIGKILL', endpoint?: DockerEndpoint): Promise<void> {
  await call(`/containers/${encodeURIComponent(id)}/kill?signal=${signal}`, {method: 'POST', endpoint}, [204, 409])
}

/** The container's last log lines (stdout and stderr), for an error message. */
export async function containerLogTail(id: string, lines = 10, endpoint?: DockerEndpoint): Promise<string> {
  try {
    const res = await call(`/containers/${encodeURIComponent(id)}/logs?stdout=true&stderr=true&tail=${lines}`, {
      endpoint,
      timeoutMs: 5000,
    })
    return demux(res.body).trim()
  } catch {
    return ''
  }
}

/** Docker's multiplexed log stream (8-byte frame headers) to text; a TTY container's plain text passes through. */
export function demux(buf: Buffer): string {
  const out: Buffer[] = []
  let i = 0
  while (i + 8 <= buf.length && buf[i] <= 2 && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const size = buf.readUInt32BE(i + 4)
    out.push(buf.subarray(i + 8, i + 8 + size))
    i += 8 + size
  }
  if (i === 0) return buf.toString('utf8')
  return Buffer.concat(out).toString('utf8')
}

/** The engine's version, for messages: "20.10.24". */
export async function engineVersion(endpoint?: DockerEndpoint): Promise<string | undefined> {
  try {
    const res = await call('/version', {endpoint, timeoutMs: 2000})
    return (JSON.parse(res.body.toString('utf8')) as {Version?: string}).Version
  } catch {
    return undefined
  }
}
