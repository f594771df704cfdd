import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {type Definitions, emptyDefinitions} from '../../src/topology/definitions.js'
import {objectKey, SECTIONS, type Section} from '../../src/topology/model.js'

type Obj = Record<string, unknown>

/**
 * A small fake of the management API for unit tests of the apply path: GET/POST /api/definitions with
 * RabbitMQ's import order (partial application before a refusal, existing exchanges/queues left alone),
 * /api/vhosts, /api/overview, /api/nodes, /api/whoami, DELETE of exchanges/queues. Not a broker.
 */
export class FakeManagement {
  readonly state: Definitions = emptyDefinitions()
  /** Requests seen, as "METHOD /path". */
  readonly requests: string[] = []
  /** Objects the fake refuses on import: return a reason to refuse. */
  refuse: (section: Section, o: Obj) => string | undefined = () => undefined
  /** Answer 401 to this method+path (an action refused) while /whoami still logs in. */
  deny?: string
  version = '3.10.8'
  private server?: Server

  constructor() {
    this.state.users.push({name: 'evt', tags: ['administrator'], password_hash: 'h0'})
    this.state.vhosts.push({name: '/'})
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res))
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve))
    const {port} = this.server.address() as AddressInfo
    return `http://evt:secret@127.0.0.1:${port}`
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()))
  }

  private list(section: Section): Obj[] {
    return this.state[section] as unknown as Obj[]
  }

  /** RabbitMQ's import: sections in order, upsert by identity; the first refusal stops it. */
  importDocument(doc: Obj): string | undefined {
    for (const [section] of SECTIONS) {
      for (const o of (doc[section] as Obj[] | undefined) ?? []) {
        const reason = this.refuse(section, o)
        if (reason) return reason
        const list = this.list(section)
        const at = list.findIndex((e) => objectKey(section, e) === objectKey(section, o))
        if (at >= 0 && (section === 'exchanges' || section === 'queues')) continue
        const stored = section === 'users' ? {...o, password_hash: o.password_hash ?? `hash-of-${o.password}`} : o
        delete stored.password
        if (at >= 0) list[at] = stored
        else list.push(stored)
      }
    }
    return undefined
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = ''
    for await (const chunk of req) body += chunk
    const path = (req.url ?? '').replace(/^\/api/, '')
    this.requests.push(`${req.method} ${path}`)
    const send = (status: number, value?: unknown) => {
      res.writeHead(status, {'content-type': 'application/json'})
      res.end(value === undefined ? '' : JSON.stringify(value))
    }
    if (req.headers.authorization !== `Basic ${Buffer.from('evt:secret').toString('base64')}`) {
      return send(401, {error: 'not_authorized', reason: 'Login failed'})
    }
    if (this.deny === `${req.method} ${path}`) return send(401, {error: 'not_authorised', reason: 'Access refused.'})
    if (req.method === 'GET' && path === '/whoami') return send(200, {name: 'evt', tags: ['administrator']})
    if (req.method === 'GET' && path === '/overview') {
      return send(200, {rabbitmq_version: this.version, exchange_types: [{name: 'topic'}, {name: 'direct'}]})
    }
    if (req.method === 'GET' && path === '/nodes') return send(200, [{applications: [{name: 'rabbit'}]}])
    if (req.method === 'GET' && path === '/vhosts') {
      return send(
        200,
        this.state.vhosts.map((v) => ({description: '', tags: [], ...v})),
      )
    }
    if (req.method === 'GET' && path === '/definitions') {
      return send(200, {...this.state, vhosts: this.state.vhosts.map((v) => ({name: v.name}))})
    }
    if (req.method === 'POST' && path === '/definitions') {
      const reason = this.importDocument(JSON.parse(body) as Obj)
      return reason ? send(400, {error: 'bad_request', reason}) : send(204)
    }
    const del = /^\/(exchanges|queues)\/([^/]+)\/([^/]+)$/.exec(path)
    if (req.method === 'DELETE' && del) {
      const list = this.list(del[1] as Section)
      const at = list.findIndex((o) => o.vhost === decodeURIComponent(del[2]) && o.name === decodeURIComponent(del[3]))
      if (at < 0) return send(404, {error: 'Object Not Found', reason: 'Not Found'})
      list.splice(at, 1)
      return send(204)
    }
    send(404, {error: 'Object Not Found', reason: 'Not Found'})
  }
}
