import {createRequire} from 'node:module'

// yaml is loaded on first use only: `evt --version` and a cached catalogue never need it.
let yamlParse: ((text: string) => unknown) | undefined

/** YAML text as data, synchronously (the catalogue and the project file are read synchronously; yaml is CommonJS). */
export function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse
  return yamlParse(text)
}
