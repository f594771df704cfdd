import type {Catalogue} from '../catalogue/catalogue.js'
import type {EventType} from '../catalogue/types.js'

/** The interactive picker of `evt publish` with no TYPE on a TTY: search a type by name, then a count. */
export async function pickEvents(catalogue: Catalogue): Promise<{types: EventType[]; count: number}> {
  const {search, number} = await import('@inquirer/prompts')
  const all = catalogue.list()
  const chosen = await search<EventType>({
    message: 'Event type (type to search)',
    source: (term) => {
      const q = (term ?? '').toLowerCase()
      return all
        .filter((t) => t.qualifiedName.toLowerCase().includes(q) || t.description.toLowerCase().includes(q))
        .map((t) => ({name: t.qualifiedName, value: t, description: `${t.exchange} ${t.routingKey}: ${t.description}`}))
    },
  })
  const count = await number({message: 'How many messages?', default: 1, min: 1, required: true})
  return {types: [chosen], count: count ?? 1}
}
