import {Command, Flags, type Interfaces} from '@oclif/core'
import type {BrokerRecord} from './broker/types.js'
import {type ConnectionSettings, resolveConnection} from './config/resolve.js'
import {DEFAULT_BROKER_NAME, readBrokerRecord, stateHome} from './config/state.js'
import {type EvtError, formatError} from './errors.js'
import {toEvtError} from './errors-map.js'
import {canPrompt} from './report/terminal.js'

export type EvtFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type EvtArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * Shared by every command: where the broker is (--url, --management-url, --vhost, --name),
 * --json and --no-input, and the one place where errors become exit codes
 * (0 ok, 1 check or delivery failed, 2 bad usage or input, 3 broker or runtime unreachable).
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    url: Flags.string({
      summary:
        'AMQP URL of the broker (env RABBITMQ_URL; default: the broker `evt up` started, else amqp://guest:guest@localhost:5672).',
      helpGroup: 'CONNECTION',
    }),
    'management-url': Flags.string({
      summary: 'Management API URL (env RABBITMQ_MANAGEMENT_URL; default: derived from the AMQP URL).',
      helpGroup: 'CONNECTION',
    }),
    vhost: Flags.string({summary: 'Virtual host to work in (env EVT_VHOST).', helpGroup: 'CONNECTION'}),
    name: Flags.string({
      summary: 'Which broker started by `evt up` to use (env EVT_BROKER).',
      default: async () => process.env.EVT_BROKER ?? DEFAULT_BROKER_NAME,
      helpGroup: 'CONNECTION',
    }),
    'no-input': Flags.boolean({
      summary: 'Never prompt; fail with usage instead (env EVT_NO_INPUT).',
      default: async () => Boolean(process.env.EVT_NO_INPUT),
      helpGroup: 'GLOBAL',
    }),
  }

  protected flags!: EvtFlags<T>
  protected args!: EvtArgs<T>

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as EvtFlags<T>
    this.args = args as EvtArgs<T>
  }

  /** The `evt up` broker named by --name, if one is recorded. */
  protected async brokerRecord(): Promise<BrokerRecord | undefined> {
    return readBrokerRecord(stateHome(), this.flags.name)
  }

  /** Where the broker is: flag > env > `evt up` state > default. */
  protected async connection(): Promise<ConnectionSettings> {
    const record = await this.brokerRecord()
    const flags = this.flags as {url?: string; 'management-url'?: string; vhost?: string}
    return resolveConnection(
      {url: flags.url, managementUrl: flags['management-url'], vhost: flags.vhost},
      process.env,
      record,
    )
  }

  protected canPrompt(): boolean {
    return canPrompt({noInput: this.flags['no-input'], json: this.jsonEnabled()})
  }

  /** Status lines go to stderr so stdout stays clean for data (and --json). */
  protected info(message: string): void {
    if (!this.jsonEnabled()) this.logToStderr(message)
  }

  public override async catch(err: Error & {code?: string; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit() throws an ExitError: let oclif handle it as usual.
    if (err.code === 'EEXIT') throw err
    // --help and --version are handled before run(); parse errors of oclif carry an exit code.
    const evtError: EvtError = toEvtError(err)
    process.exitCode = evtError.exitCode
    if (this.jsonEnabled()) {
      this.logJson({
        error: {
          message: evtError.message,
          hint: evtError.hint,
          exitCode: evtError.exitCode,
          ...(evtError.details === undefined ? {} : {details: evtError.details}),
        },
      })
    } else {
      this.logToStderr(`Error: ${formatError(evtError)}`)
      if (process.env.EVT_DEBUG && err.stack) this.logToStderr(err.stack)
    }
    return undefined
  }
}
