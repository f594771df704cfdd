import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const PACKAGE_NAME = 'evt-rabbitmq'
let root: string | undefined

/**
 * The folder of evt's own package.json (where fixtures/ and dist/ are), found by walking up from this module:
 * it runs from src/ (tsx, vitest), dist/ (the library) and dist/cli/ (the CLI bundle), each at its own depth.
 * Never throws (library modules call it when they load): where no evt package.json is above (evt bundled into
 * another program), it is the folder two levels up, where src/ and dist/ modules have it.
 */
export function packageRoot(): string {
  root ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)))
  return root
}

/** The nearest folder above `here` holding evt's package.json; else two levels up. */
export function findPackageRoot(here: string): string {
  for (let dir = here; dirname(dir) !== dir; dir = dirname(dir)) if (isEvtPackage(dir)) return dir
  return join(here, '..', '..')
}

function isEvtPackage(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {name?: string}).name === PACKAGE_NAME
  } catch {
    return false
  }
}

/** Whether evt runs from its TypeScript sources (tsx, vitest) rather than from dist/. */
export function runsFromSource(): boolean {
  return import.meta.url.endsWith('.ts')
}
