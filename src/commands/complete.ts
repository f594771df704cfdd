import {Command} from '@oclif/core'
import {stateHome} from '../config/state.js'

/** Hidden: the shell completion scripts of `evt completion` call it with the words typed so far. */
export default class Complete extends Command {
  static override hidden = true
  static override strict = false
  static override summary = 'Print completion candidates for the words after `evt` (used by `evt completion`).'

  async run(): Promise<void> {
    const words = this.argv[0] === '--' ? this.argv.slice(1) : this.argv
    const {completeWords, projectSources} = await import('../project/complete.js')
    const commands = () =>
      this.config.commands
        .filter((c) => !c.hidden)
        .map((c) => ({
          id: c.id,
          flags: Object.fromEntries(
            Object.entries(c.flags).map(([name, f]) => [
              name,
              {type: f.type, options: f.type === 'option' ? f.options : undefined},
            ]),
          ),
        }))
    try {
      const candidates = await completeWords(words.length === 0 ? [''] : words, projectSources(commands, stateHome()))
      if (candidates.length > 0) process.stdout.write(`${candidates.join('\n')}\n`)
    } catch {
      // A broken project file or an unreadable folder: no candidates, never an error in the shell.
    }
  }
}
