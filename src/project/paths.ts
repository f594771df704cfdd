import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {packageRoot} from '../util/package-root.js'

/**
 * fixtures/ of the installed package: the built-in seed systems (works from src/ under tsx and vitest,
 * and from dist/). The one place that knows where the package's fixtures are.
 */
export function builtinFixturesDir(): string {
  return join(packageRoot(), 'fixtures')
}

export function builtinEventsDir(): string {
  return join(builtinFixturesDir(), 'events')
}

export function builtinTopologyDir(): string {
  return join(builtinFixturesDir(), 'topology')
}

export function builtinScenariosDir(): string {
  return join(builtinFixturesDir(), 'scenarios')
}

/** The seed systems shipped with the package: customers, ecommerce, tutorgo, courses. */
export function builtinSystems(): string[] {
  return readdirSync(builtinEventsDir(), {withFileTypes: true})
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
}
