import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'

export default class Completion extends BaseCommand<typeof Completion> {
  static override summary =
    'Print a shell completion script that completes commands, flags, event types, scenario names and broker names.'
  static override description =
    'Candidates come from the project of the folder you are in (its catalogue, scenarios and topology) and from the brokers `evt up` recorded there.'
  static override examples = [
    'eval "$(<%= config.bin %> completion bash)"   # in ~/.bashrc',
    'eval "$(<%= config.bin %> completion zsh)"    # in ~/.zshrc, after compinit',
  ]
  static override args = {
    shell: Args.string({description: 'bash or zsh', options: ['bash', 'zsh'], default: 'bash'}),
  }

  async run(): Promise<{shell: string; script: string}> {
    const {completionScript} = await import('../project/complete.js')
    const shell = this.args.shell === 'zsh' ? 'zsh' : 'bash'
    const script = completionScript(shell, this.config.bin)
    if (!this.jsonEnabled()) process.stdout.write(script)
    return {shell, script}
  }
}
