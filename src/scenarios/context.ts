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
    private readonly onRestart?: (broker: Broker) => Promise<void>,
  ) {
    this.vars = {params, vhost}
  }

  get amqpUrl(): string {
    return withVhost(this.broker.amqpUrl, this.vhost)
  }

  async conn(): Promise<ChannelModel> {
    if (!this.connection) {
      const c = await connectAmqp(this.amqpUrl, {connectionName: `evt scenario ${this.vhost}`})
      // A connection the broker drops (restart, kill) must not become an unhandled 'error' event.
      c.on('error', () => {})
      c.on('close', () => {
        if (this.connection === c) this.connection = undefined
      })
      this.connection = c
    }
    return this.connection
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
    if (c) await c.close().catch(() => {})
  }

  /**
   * Restart (or SIGKILL and start) the broker on the same data. With keepConnection the connection is
   * left to die with the broker, so a publisher can keep going while the kill happens.
   */
  async restartBroker(kind: 'restart' | 'kill', options: {keepConnection?: boolean} = {}): Promise<number> {
    const started = Date.now()
    if (!options.keepConnection) await this.disconnect()
    if (kind === 'kill') await this.broker.killAndRestart()
    else await this.broker.restart()
    await this.disconnect()
    await this.onRestart?.(this.broker)
    return (Date.now() - started) / 1000
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
