import {Command, Flags, type Interfaces} from '@oclif/core'
import {type ConnectionSettings, chooseBroker, resolveConnection} from './config/resolve.js'
import {DEFAULT_BROKER_NAME, listBrokerNames, readBrokerRecord, stateHome, validateBrokerName} from './config/state.js'
import {EvtError, formatError} from './errors.js'
import {toEvtError} from './errors-map.js'
import {projectBrokerDefaults} from './project/project.js'
import {canPrompt} from './ui/terminal.js'
import {InterruptedError, SIGNAL_EXIT_CODE} from './util/signals.js'

/** A command's own flag wins over a base flag of the same name (as oclif merges them). */
export type EvtFlags<T extends typeof Command> = Interfaces.InferredFlags<
  Omit<(typeof BaseCommand)['baseFlags'], keyof T['flags']> & T['flags']
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
      summary:
        'Which broker started by `evt up` to use (env EVT_BROKER; default: evt.yaml broker.name, else the only one recorded, else "default").',
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

  /** The state folder (EVT_HOME, else the nearest .evt up from here, else ./.evt). */
  protected stateHome(): string {
    return stateHome()
  }

  /** The broker name for `evt up`-like commands: --name, EVT_BROKER, or "default"; always a valid name. */
  protected brokerName(): string {
    const flag = (this.flags as {name?: string}).name
    if (flag !== undefined) return validateBrokerName(flag, '--name')
    if (process.env.EVT_BROKER) return validateBrokerName(process.env.EVT_BROKER, 'EVT_BROKER')
    const fromProject = projectBrokerDefaults().name
    if (fromProject) return validateBrokerName(fromProject, 'broker.name in evt.yaml')
    return DEFAULT_BROKER_NAME
  }

  /** What the last connection() resolved, so that an unreachable broker's error can say which was tried. */
  private resolved?: ConnectionSettings

  /**
   * Where the broker is; see chooseBroker for the order. It never guesses a broker that was not asked for.
   * `name` stands for --name (a command that takes several names asks once per name).
   */
  protected async connection(options: {name?: string} = {}): Promise<ConnectionSettings> {
    const home = this.stateHome()
    const flags = this.flags as {url?: string; 'management-url'?: string; vhost?: string; name?: string | string[]}
    const flagName = options.name ?? (Array.isArray(flags.name) ? flags.name[0] : flags.name)
    const choice = chooseBroker({
      flagName,
      flagUrl: flags.url,
      projectName: projectBrokerDefaults().name,
      env: process.env,
      home,
      recorded: await listBrokerNames(home),
    })
    const record = choice.kind === 'record' ? await readBrokerRecord(home, choice.name) : undefined
    const why =
      choice.kind !== 'record'
        ? ''
        : choice.how === 'flag'
          ? ' (--name)'
          : choice.how === 'env'
            ? ' (EVT_BROKER)'
            : choice.how === 'project'
              ? ' (broker.name in evt.yaml)'
              : choice.how === 'only'
                ? ' (the only one recorded)'
                : ''
    const origin =
      choice.kind === 'record'
        ? `the broker "${choice.name}" recorded in ${home}${why}${record?.state === 'stopped' ? ', stopped with `evt down --keep-data`' : ''}`
        : choice.kind === 'default'
          ? `the default URL: no --url, --name, RABBITMQ_URL or broker recorded in ${home}`
          : undefined
    this.resolved = resolveConnection(
      {url: flags.url, managementUrl: flags['management-url'], vhost: flags.vhost},
      process.env,
      record,
      {named: choice.kind === 'record' && (choice.how === 'flag' || choice.how === 'env'), origin},
    )
    return this.resolved
  }

  /** An unreachable broker's error says which broker evt tried, and why that one. */
  private withOrigin(err: EvtError): EvtError {
    const settings = this.resolved
    if (err.exitCode !== 3 || !settings?.origin) return err
    let hint = err.hint
    const generic = hint === undefined || /^Start one with/.test(hint)
    if (settings.source === 'state' && settings.broker && generic) {
      const name = settings.broker.name
      hint = `Start it again with \`evt up --name ${name}\`, or remove it with \`evt down --name ${name}\``
    } else if (settings.source === 'default' && (generic || /evt provision/.test(hint ?? ''))) {
      hint = 'Start one with `evt up` (it records it for the other commands), or pass --url / set RABBITMQ_URL'
    }
    return new EvtError(`${err.message} (tried ${settings.origin})`, {
      exitCode: err.exitCode,
      hint,
      details: err.details,
      cause: err,
    })
  }

  protected canPrompt(): boolean {
    return canPrompt({noInput: (this.flags as {'no-input'?: boolean})['no-input'], json: this.jsonEnabled()})
  }

  /** Status lines go to stderr so stdout stays clean for data (and --json). */
  protected info(message: string): void {
    if (!this.jsonEnabled()) this.logToStderr(message)
  }

  /** A one-line notice that matters even under --json (a fallback, a cleanup): always to stderr. */
  protected notice(message: string): void {
    // oclif's logToStderr is silent under --json; a notice is not.
    process.stderr.write(`${message}\n`)
  }

  /**
   * --json output. oclif tokenizes the JSON to colour it even when nothing will be coloured (a pipe): a few ms of
   * every `--json` run. Piped, it is plain JSON.stringify, which is the same text; on a terminal, oclif's colours.
   */
  public override logJson(json: unknown): void {
    if (process.stdout.isTTY) super.logJson(json)
    else process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /** Progress chatter ("Starting ..."): only on a terminal; piped or under --json evt stays quiet. */
  protected progress(message: string): void {
    if (process.stderr.isTTY) this.info(message)
  }

  public override async catch(err: Error & {code?: string; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit() throws an ExitError: let oclif handle it as usual.
    if (err.code === 'EEXIT') throw err
    // Ctrl-C / SIGTERM: what was started is cleaned up by now; exit like a process killed by that signal.
    if (err instanceof InterruptedError) {
      process.exitCode = SIGNAL_EXIT_CODE[err.signalName]
      if (!this.jsonEnabled()) this.logToStderr(`Interrupted (${err.signalName}): what was being started was removed.`)
      else this.logJson({error: {message: err.message, exitCode: process.exitCode}})
      return undefined
    }
    // --help and --version are handled before run(); parse errors of oclif carry an exit code.
    const evtError: EvtError = this.withOrigin(
      toEvtError(err, {flagNames: Object.keys({...BaseCommand.baseFlags, ...this.ctor.flags})}),
    )
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
