#!/usr/bin/env -S node --import tsx
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execute} from '@oclif/core'

// package.json points oclif at the CLI bundle (dist/cli/...); from src/ the commands and hooks are tsc's layout
// (dist/...), which oclif maps to src/.
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const tscLayout = (path) => path.replace('./dist/cli/', './dist/')
pjson.oclif.commands = tscLayout(pjson.oclif.commands)
pjson.oclif.hooks = Object.fromEntries(Object.entries(pjson.oclif.hooks).map(([hook, path]) => [hook, tscLayout(path)]))
// The manifest `npm run build` writes names the bundle's files. oclif reads it unless its version differs, so the
// version differs here and the commands are read from src/ (oclif's warning about that is expected, and dropped).
pjson.version = `${pjson.version}+src`
const emitWarning = process.emitWarning.bind(process)
process.emitWarning = (warning, ...rest) => {
  if (!String(warning).startsWith('Mismatched version')) emitWarning(warning, ...rest)
}

await execute({development: true, loadOptions: {root, pjson}})
