import {builtinSystems} from './paths.js'

/** What a command line may complete to; each source is read only when that position needs it. */
export interface CompletionCommand {
  id: string
  flags: Record<string, {type: 'boolean' | 'option'; options?: readonly string[]}>
}

export interface CompletionSources {
  commands: () => CompletionCommand[]
  eventTypes: () => Promise<string[]>
  scenarios: () => Promise<string[]>
  brokers: () => Promise<string[]>
  /** Exchange and queue names of the project's topology. */
  entities: () => Promise<string[]>
  systems: () => string[]
}

/**
 * Candidates for the last word of `words` (the words after `evt`, the last one being completed, possibly
 * empty): command names, flags, flag values (options, broker names, seed systems), and per command the
 * event types (events, publish, bench --event), scenario names (scenario), exchanges and queues (tail, verify,
 * topology). Only candidates starting with the word are returned.
 */
export async function completeWords(words: string[], sources: CompletionSources): Promise<string[]> {
  const current = words.at(-1) ?? ''
  const before = words.slice(0, -1)
  const keep = (list: string[]) => [...new Set(list)].filter((c) => c.startsWith(current)).sort()
  const commands = sources.commands()
  if (before.length === 0) return keep(commands.map((c) => c.id))
  const command = commands.find((c) => c.id === before[0])
  if (!command) return []
  const previous = before.at(-1) ?? ''
  if (previous.startsWith('--') && before.length > 1) {
    const name = previous.slice(2)
    const flag = command.flags[name]
    if (flag?.type === 'option') {
      if (name === 'name') return keep(await sources.brokers())
      if (name === 'example') return keep(sources.systems())
      if (name === 'event') return keep(await sources.eventTypes())
      if (name === 'exchange' || name === 'queue') return keep(await sources.entities())
      if (flag.options) return keep([...flag.options])
      return []
    }
  }
  if (current.startsWith('-')) return keep(Object.keys(command.flags).map((f) => `--${f}`))
  switch (command.id) {
    case 'events':
    case 'publish':
      return keep(await sources.eventTypes())
    case 'scenario':
      return keep(await sources.scenarios())
    case 'tail':
    case 'verify':
    case 'topology':
      return keep(await sources.entities())
    default:
      return []
  }
}

/** The sources of the current folder's project (catalogue, scenarios, topology) and `evt up` brokers. */
export function projectSources(commands: CompletionSources['commands'], stateHome: string): CompletionSources {
  return {
    commands,
    async eventTypes() {
      const {loadCatalogue} = await import('../catalogue/catalogue.js')
      const types = loadCatalogue().list()
      return types.flatMap((t) => [t.name, t.qualifiedName])
    },
    async scenarios() {
      const {loadBuiltinScenarios} = await import('../scenarios/load.js')
      return (await loadBuiltinScenarios()).map((s) => s.name)
    },
    async brokers() {
      const {listBrokerRecords} = await import('../config/state.js')
      return (await listBrokerRecords(stateHome)).map((r) => r.name)
    },
    async entities() {
      const {readDefinitionsFiles} = await import('../topology/definitions.js')
      const defs = await readDefinitionsFiles()
      return [...defs.exchanges.map((e) => e.name), ...defs.queues.map((q) => q.name)].filter(
        (n) => n !== '' && !n.startsWith('amq.'),
      )
    },
    systems: builtinSystems,
  }
}

/** Shell scripts that ask `evt complete` for candidates. */
export function completionScript(shell: 'bash' | 'zsh', bin: string): string {
  if (shell === 'zsh')
    return `#compdef ${bin}
# evt completion for zsh: add to ~/.zshrc:  eval "$(${bin} completion zsh)"
_${bin}_complete() {
  local -a candidates
  candidates=("\${(@f)$(${bin} complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -- "\${candidates[@]}"
}
compdef _${bin}_complete ${bin}
`
  return `# evt completion for bash: add to ~/.bashrc:  eval "$(${bin} completion bash)"
_${bin}_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(${bin} complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _${bin}_complete ${bin}
`
}
