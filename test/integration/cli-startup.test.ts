import {readFileSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'

/**
 * What the built CLI loads to start (`npm run build` bundles it into dist/cli/): oclif from the bundle, not its
 * seventy files in node_modules, and the built-in fixtures from the parsed cache, not through the YAML parser.
 */
let dir: string
let hook: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evt-startup-'))
  hook = join(dir, 'record-loaded.mjs')
  // Every CommonJS module the process loaded, written when it exits.
  await writeFile(
    hook,
    [
      "import {createRequire} from 'node:module'",
      "import {writeFileSync} from 'node:fs'",
      'const require = createRequire(import.meta.url)',
      "process.on('exit', () => writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify(Object.keys(require.cache))))",
    ].join('\n'),
  )
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

async function loadedBy(args: string[]): Promise<{stdout: string; loaded: string[]}> {
  const file = join(dir, `${args.join('-')}.json`)
  const r = await runCli(args, {env: {NODE_OPTIONS: `--import ${hook}`, LOADED_MODULES_FILE: file}})
  expect(r.code, r.stdout + r.stderr).toBe(0)
  return {stdout: r.stdout, loaded: JSON.parse(readFileSync(file, 'utf8')) as string[]}
}

const inPackage = (loaded: string[], name: string) => loaded.filter((f) => f.includes(`/node_modules/${name}/`))

describe('the built CLI', () => {
  it('`evt events` takes oclif from the bundle and the fixtures from the parsed cache', async () => {
    const {stdout, loaded} = await loadedBy(['events'])
    expect(stdout).toContain('order.created')
    // The record is real: the table library the command uses is in it.
    expect(inPackage(loaded, 'cli-table3').length).toBeGreaterThan(0)
    expect(inPackage(loaded, '@oclif/core')).toEqual([])
    expect(inPackage(loaded, 'yaml')).toEqual([])
  })

  it('`evt --version` loads neither oclif’s own files nor amqplib', async () => {
    const {stdout, loaded} = await loadedBy(['--version'])
    expect(stdout).toMatch(/^evt-rabbitmq\/\d+\.\d+\.\d+ /)
    expect(inPackage(loaded, '@oclif/core')).toEqual([])
    expect(inPackage(loaded, 'amqplib')).toEqual([])
  })
})
