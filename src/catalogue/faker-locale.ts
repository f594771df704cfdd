import {readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import type {Faker, LocaleDefinition, Randomizer} from '@faker-js/faker'
import {packageRoot, runsFromSource} from '../util/package-root.js'

/**
 * English faker for the generators. `@faker-js/faker/locale/en` evaluates all of faker's English data, some 290 KB
 * of object literals, before the first payload: some 20–45 ms of every `evt publish`. The build keeps a copy of that
 * data as JSON text per category (`npm run build` writes it), and a run parses only the categories its recipes
 * read, when faker first reads them. Same data, so the same values for a seed.
 */
function definitionsFile(): string {
  return join(packageRoot(), 'dist', 'catalogue', 'faker-en.json')
}

/**
 * The file: one line of JSON (the faker version it was written from, and where each category's JSON text is in
 * the rest of the file), then those texts back to back. Reading it costs a file read and a small parse; a category
 * is parsed when first used. Another faker version than the one installed (an upgrade without a rebuild), or a
 * short file, and the locale module is used instead.
 */
interface FileIndex {
  faker: string
  categories: Record<string, [start: number, end: number]>
}

function installedFakerVersion(): string {
  return (createRequire(import.meta.url)('@faker-js/faker/package.json') as {version: string}).version
}

/** A faker of English data drawing from `randomizer`. */
export async function loadEnglishFaker(randomizer: Randomizer, file = definitionsFile()): Promise<Faker> {
  const locale = runsFromSource() && file === definitionsFile() ? undefined : lazyDefinitions(file)
  if (locale) {
    // The Faker class from faker's smallest entry (its base data only).
    const {faker: base} = await import('@faker-js/faker/locale/base')
    return new (base.constructor as typeof Faker)({locale, randomizer})
  }
  const {faker: en} = await import('@faker-js/faker/locale/en')
  return new (en.constructor as typeof Faker)({locale: en.rawDefinitions, randomizer})
}

/** The definitions with one getter per category that parses it on first use; undefined without the file. */
function lazyDefinitions(file: string): LocaleDefinition | undefined {
  let bytes: Buffer
  let index: FileIndex
  let body: number
  try {
    bytes = readFileSync(file)
    body = bytes.indexOf(0x0a) + 1
    index = JSON.parse(bytes.toString('latin1', 0, body)) as FileIndex
  } catch {
    return undefined
  }
  const ends = Object.values(index.categories ?? {}).map(([, end]) => end)
  if (index.faker !== installedFakerVersion() || ends.length === 0 || body + Math.max(...ends) > bytes.length) {
    return undefined
  }
  const locale: Record<string, unknown> = {}
  for (const [name, [start, end]] of Object.entries(index.categories)) {
    Object.defineProperty(locale, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = JSON.parse(bytes.toString('latin1', body + start, body + end)) as unknown
        Object.defineProperty(locale, name, {value, enumerable: true})
        return value
      },
    })
  }
  return locale as LocaleDefinition
}

/** Write faker's English definitions for `loadEnglishFaker` (run by `npm run build`). Returns the category count. */
export async function writeFakerDefinitions(file = definitionsFile()): Promise<number> {
  const {faker: en} = await import('@faker-js/faker/locale/en')
  const index: FileIndex = {faker: installedFakerVersion(), categories: {}}
  let texts = ''
  for (const [name, value] of Object.entries(en.rawDefinitions)) {
    // ASCII only (other characters as \\u escapes), so offsets count bytes and a slice decodes as latin1, fast.
    const json = JSON.stringify(value).replace(
      /[^\x00-\x7f]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    index.categories[name] = [texts.length, texts.length + json.length]
    texts += json
  }
  writeFileSync(file, `${JSON.stringify(index)}\n${texts}\n`)
  return Object.keys(index.categories).length
}
