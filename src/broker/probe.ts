import {readFileSync} from 'node:fs'
import {createConnection, createServer} from 'node:net'
import {splitHttpCredentials} from '../config/url.js'

const AMQP_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')

/**
 * Whether an AMQP 0-9-1 broker answers at host:port: send the protocol header and wait for a
 * frame whose first byte is 1 (a method frame: Connection.Start). Cheaper than a CLI check.
 */
export function amqpAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({host, port})
    let done = false
    const finish = (ok: boolean) => {
      if (done) return
      done = true
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => finish(false))
    socket.once('error', () => finish(false))
    socket.once('connect', () => socket.write(AMQP_HEADER))
    socket.once('data', (chunk) => finish(chunk[0] === 1))
    socket.once('close', () => finish(false))
  })
}

/** Whether the management API answers GET /api/overview with these credentials. */
export async function managementAnswers(managementUrl: string, timeoutMs = 1000): Promise<boolean> {
  const {baseUrl, username, password} = splitHttpCredentials(managementUrl)
  try {
    const res = await fetch(`${baseUrl}/api/overview`, {
      headers: {authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`},
      signal: AbortSignal.timeout(timeoutMs),
    })
    await res.arrayBuffer()
    return res.ok
  } catch {
    return false
  }
}

/**
 * A port free now on 127.0.0.1, taken from just below the kernel's ephemeral range. A port from inside that range
 * (what `listen(0)` gives) can become the source port of any outgoing connection on the machine between this check
 * and the broker's bind, and the broker then fails to start; a port below it cannot.
 */
export async function freePort(): Promise<number> {
  const top = ephemeralRangeStart()
  const bottom = Math.max(1024, top - 16_000)
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom))
    if (!(await portInUse(port))) return port
  }
  return kernelChosenPort()
}

/** Where the kernel starts handing out source ports: Linux says so in /proc; elsewhere the IANA range's start. */
function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (Number.isInteger(low) && low > 2048) return low
  } catch {
    // not Linux
  }
  return 49_152
}

function kernelChosenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Whether something already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(true))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)))
  })
}
