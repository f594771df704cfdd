import type {Hook} from '@oclif/core'
import {closest} from '../util/did-you-mean.js'

/** A mistyped command gets the same one-line error as everything else, with the closest commands, and exit 2. */
const hook: Hook<'command_not_found'> = async (options) => {
  const typed = options.id.split(':')[0]
  const names = options.config.commandIDs.map((id) => id.replaceAll(':', ' '))
  const near = closest(typed, names, (n) => n)
  const hint = near.length > 0 ? `Did you mean ${near.map((n) => `\`evt ${n}\``).join(' or ')}?` : 'See `evt help`'
  process.stderr.write(`Error: unknown command "${typed}". ${hint}\n`)
  process.exitCode = 2
}

export default hook
