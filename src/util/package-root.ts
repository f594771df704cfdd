import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

let root: string | undefined

/**
 * The folder of evt's own package.json (where fixtures/ and dist/ are), found by walking up from this module:
 * it runs from src/ (tsx, vitest), dist/ (the library) and dist/cli/ (the CLI bundle), each at its own depth.
 */
export function packageRoot(): string {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'fixtures'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error(`evt's package folder was not found above ${fileURLToPath(import.meta.url)}`)
    dir = up
  }
  root = dir
  return root
}

/** Whether evt runs from its TypeScript sources (tsx, vitest) rather than from dist/. */
export function runsFromSource(): boolean {
  return import.meta.url.endsWith('.ts')
}
