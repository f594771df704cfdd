import {createServer as createHttpServer, type Server as HttpServer} from 'node:http'
import {createServer, type Server, type Socket} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {connectAmqp} from '../../src/amqp/connect.js'
import {ManagementClient} from '../../src/management/client.js'

const servers: (Server | HttpServer)[] = []
const sockets: Socket[] = []
const timers: NodeJS.Timeout[] = []
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t)
  for (const s of sockets.splice(0)) s.destroy()
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

function listen(server: Server | HttpServer): Promise<number> {
  servers.push(server)
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address()
      resolve(typeof a === 'object' && a ? a.port : 0)
    })
  })
}

describe('connect limits are deadlines', () => {
  it('AMQP: a server that trickles a byte every 100 ms is given up at the deadline, exit 3', async () => {
    const port = await listen(
      createServer((sock) => {
        sockets.push(sock)
        sock.on('error', () => undefined)
        sock.on('data', () => {
          // The start of a method frame announcing 4096 bytes, then one byte at a time.
          sock.write(Buffer.from([1, 0, 0, 0, 0, 0x10, 0]))
          timers.push(setInterval(() => sock.write(Buffer.from([0])), 100))
        })
      }),
    )
    const started = Date.now()
    await expect(connectAmqp(`amqp://u:p@127.0.0.1:${port}`, {timeoutMs: 800})).rejects.toMatchObject({exitCode: 3})
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('management API: headers then a stalled body is exit 3, not a stray error', async () => {
    const port = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200, {'content-type': 'application/json'})
        res.write('{"node":')
        res.socket && sockets.push(res.socket)
      }),
    )
    const api = new ManagementClient(`http://u:p@127.0.0.1:${port}`, 500)
    await expect(api.get('/overview')).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringContaining('stopped answering'),
    })
  })
})
