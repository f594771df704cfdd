import {UsageError} from '../errors.js'

export const EVENT_POOL_SIZE = 64

/**
 * A small pool of catalogue event bodies for `--event`, generated once before the run so the hot loop
 * only picks one. The send time travels in a header, so the bodies stay valid events.
 */
export async function eventBodies(
  name: string,
  poolSize = EVENT_POOL_SIZE,
): Promise<{event: string; bodies: Buffer[]}> {
  const {loadCatalogue} = await import('../catalogue/catalogue.js')
  const {generateEvent} = await import('../catalogue/generate.js')
  const types = loadCatalogue().resolve(name)
  if (types.length !== 1) {
    throw new UsageError(
      `--event takes one event type; "${name}" matches ${types.length}`,
      `Choose one of: ${types
        .slice(0, 5)
        .map((t) => t.qualifiedName)
        .join(', ')}`,
    )
  }
  const type = types[0]
  const bodies: Buffer[] = []
  for (let index = 0; index < poolSize; index++) {
    bodies.push((await generateEvent(type, {seed: 1, index})).body)
  }
  return {event: type.qualifiedName, bodies}
}
