import {connectAmqp} from '../amqp/connect.js'
import {deriveManagementUrl, parseAmqpUrl, withVhost} from '../config/url.js'
import {EvtError, UsageError} from '../errors.js'
import {amqpAnswers} from './probe.js'
import {type BrokerRecord, RecordedBroker, type StartOptions} from './types.js'

export class ExternalBroker extends RecordedBroker {
  readonly runtime = 'external' as const
  readonly canRestart = false

  private unavailable(what: string): never {
    throw new EvtError(`cannot ${what} an external broker: evt did not start it`, {
      exitCode: 2,
      hint: 'Use --runtime local or container for a broker evt controls',
    })
  }
  restart(): Promise<void> {
    this.unavailable('restart')
  }
  killAndRestart(): Promise<void> {
    this.unavailable('kill')
  }
  /** Nothing was started, so nothing is stopped. */
  async stop(): Promise<void> {}

  async isRunning(): Promise<boolean> {
    const p = parseAmqpUrl(this.amqpUrl)
    return amqpAnswers(p.host, p.port)
  }
}

/** Use an existing broker: check that it answers and lets us in, start nothing. */
export async function useExternal(options: StartOptions): Promise<ExternalBroker> {
  if (!options.url)
    throw new UsageError('the external runtime needs a broker URL', 'Pass --url amqp://user:pass@host:5672')
  const started = Date.now()
  const connection = await connectAmqp(options.url)
  await connection.close()
  const p = parseAmqpUrl(options.url)
  const record: BrokerRecord = {
    name: options.name ?? 'default',
    runtime: 'external',
    amqpUrl: withVhost(options.url, undefined),
    managementUrl: options.managementUrl ?? deriveManagementUrl(options.url),
    username: p.username,
    password: p.password,
    startedAt: new Date().toISOString(),
    readySeconds: (Date.now() - started) / 1000,
  }
  return new ExternalBroker(record)
}
