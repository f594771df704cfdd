import type {Channel, ChannelModel, ConfirmChannel} from 'amqplib'
import {connectAmqp} from '../amqp/connect.js'
import type {Broker} from '../broker/types.js'
import {withVhost} from '../config/url.js'
import type {ManagementClient} from '../management/client.js'
import type {CheckResult} from './types.js'

/**
 * What a step sees while a scenario runs: the broker, the scenario's own vhost, one connection
 * (reopened after a restart), the variables steps have stored, and the checks recorded so far.
 */
export class ScenarioContext {
  connection?: ChannelModel
  readonly vars: Record<string, unknown>
  readonly checks: CheckResult[] = []
  readonly notes: string[] = []
  private channels: Channel[] = []

  constructor(
    readonly broker: Broker,
    readonly api: ManagementClient,
    readonly vhost: string,
    params: Record<string, unknown>,
    /** Called after the broker restarted (the `evt up` record must follow the new pids). */
    readonly onRestart?: (broker: Broker) => Promise<void>,
    /** Ctrl-C: long waits (consume, expect) end early; cleanup still runs. */
    readonly signal?: AbortSignal,
  ) {
    this.vars = {params, vhost}
  }

  get amqpUrl(): string {
    return withVhost(this.broker.amqpUrl, this.vhost)
  }

  /** Every node's URL in this vhost: a cluster's nodes in order, else the one broker. */
  get amqpUrls(): string[] {
    const urls = (this.broker as {amqpUrls?: string[]}).amqpUrls ?? [this.broker.amqpUrl]
    return urls.map((u) => withVhost(u, this.vhost))
  }

  async conn(): Promise<ChannelModel> {
    if (!this.connection) {
      const c = await this.connectAny(`evt scenario ${this.vhost}`)
      // A connection the broker drops (restart, kill) must not become an unhandled 'error' event.
      c.on('error', () => {})
      c.on('close', () => {
        if (this.connection === c) this.connection = undefined
      })
      this.connection = c
    }
    return this.connection
  }

  /**
   * A connection of its own (a worker that will crash: dropping it must not take the others' channels).
   * It is closed with the scenario if the step does not close it first.
   */
  async ownConnection(label: string): Promise<ChannelModel> {
    const c = await this.connectAny(`evt scenario ${this.vhost} ${label}`)
    c.on('error', () => {})
    this.extra.push(c)
    return c
  }

  private extra: ChannelModel[] = []

  /** The first node that answers (a cluster with a node down still serves the scenario). */
  private async connectAny(connectionName: string): Promise<ChannelModel> {
    const urls = this.amqpUrls
    let last: unknown
    for (const url of urls) {
      try {
        return await connectAmqp(url, {connectionName})
      } catch (err) {
        last = err
      }
    }
    throw last
  }

  /** A fresh channel whose errors are reported by the operation that caused them, not thrown as events. */
  async channel(): Promise<Channel> {
    const ch = await (await this.conn()).createChannel()
    ch.on('error', () => {})
    this.channels.push(ch)
    return ch
  }

  async confirmChannel(): Promise<ConfirmChannel> {
    const ch = await (await this.conn()).createConfirmChannel()
    ch.on('error', () => {})
    this.channels.push(ch)
    return ch
  }

  async closeChannel(ch: Channel): Promise<void> {
    this.channels = this.channels.filter((c) => c !== ch)
    await ch.close().catch(() => {})
  }

  /** Drop the connection (a restart is coming, or the scenario is over). */
  async disconnect(): Promise<void> {
    const c = this.connection
    this.connection = undefined
    this.channels = []
    const extra = this.extra
    this.extra = []
    for (const e of extra) await e.close().catch(() => {})
    if (c) await c.close().catch(() => {})
  }

  /**
   * Restart the broker on the same data: 'node' stops and starts it, 'app' restarts the RabbitMQ application in
   * its VM where the runtime can (else the node), 'kill' SIGKILLs and starts it. With keepConnection the
   * connection is left to die with the broker, so a publisher can keep going while the kill happens.
   * Returns the seconds and what was done.
   */
  async restartBroker(
    kind: 'node' | 'app' | 'kill',
    options: {keepConnection?: boolean} = {},
  ): Promise<{seconds: number; how: 'node' | 'app' | 'kill'}> {
    const started = Date.now()
    if (!options.keepConnection) await this.disconnect()
    let how = kind
    if (kind === 'kill') await this.broker.killAndRestart()
    else if (kind === 'app' && this.broker.restartApp) await this.broker.restartApp()
    else {
      how = 'node'
      await this.broker.restart()
    }
    await this.disconnect()
    await this.onRestart?.(this.broker)
    return {seconds: (Date.now() - started) / 1000, how}
  }
}
