#!/usr/bin/env -S node --import tsx
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execute} from '@oclif/core'

// package.json points oclif at the CLI bundle (dist/cli/); from src/ the commands and hooks are tsc's layout,
// which oclif maps from dist/ to src/.
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
pjson.oclif.commands = './dist/commands'
pjson.oclif.hooks = {command_not_found: './dist/hooks/command-not-found'}

await execute({development: true, loadOptions: {root, pjson}})
