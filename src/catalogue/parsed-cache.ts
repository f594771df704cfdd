import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {builtinEventsDir} from '../project/paths.js'
import {packageRoot, runsFromSource} from '../util/package-root.js'
import {parseYaml} from '../util/yaml.js'

/**
 * The built-in event fixtures, parsed at build time and keyed by a hash of their text: parsing YAML is most of
 * what `evt events` and `evt publish` spend before they start. A file whose text differs (edited, or a team's own)
 * is simply parsed.
 */
function cacheFile(): string {
  return join(packageRoot(), 'dist', 'catalogue', 'parsed-fixtures.json')
}

function textHash(text: string): string {
  return createHash('sha1').update(text).digest('hex')
}

/** A lookup in a cache file: the data of this exact text, or undefined (no file, or not in it). */
export function parsedCacheLookup(file = cacheFile()): (text: string) => unknown {
  let cache: Record<string, unknown>
  try {
    cache = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch {
    cache = {}
  }
  // A copy: callers may keep or change what they get.
  return (text) => {
    const hit = cache[textHash(text)]
    return hit === undefined ? undefined : structuredClone(hit)
  }
}

let lookup: ((text: string) => unknown) | undefined

/** The YAML text as data: from the build-time cache when it holds this exact text, else parsed now. */
export function parseYamlCached(text: string): unknown {
  // From src/ (tests, bin/dev.js) a build's cache could hold what an older parser made of a text: parse.
  lookup ??= runsFromSource() ? () => undefined : parsedCacheLookup()
  return lookup(text) ?? parseYaml(text)
}

/** Write the cache of the built-in fixtures into dist/ (run by `npm run build`). Returns the file count. */
export function writeParsedCache(dir = builtinEventsDir(), file = cacheFile()): number {
  const out: Record<string, unknown> = {}
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.ya?ml$/.test(entry)) {
        const text = readFileSync(p, 'utf8')
        out[textHash(text)] = parseYaml(text)
      }
    }
  }
  walk(dir)
  writeFileSync(file, `${JSON.stringify(out)}\n`)
  return Object.keys(out).length
}
