import {execFile, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {amqpAnswers} from '../../src/broker/probe.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..', '..')
let dir: string
let project: string
/** A second folder, outside the app, where a project is made from an AsyncAPI document. */
let harbour: string

/** A user's environment: none of evt's or RabbitMQ's variables, no colour. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EVT_') && !k.startsWith('RABBITMQ_')) env[k] = v
  return {...env, NO_COLOR: '1', CI: 'true'}
}

async function evt(args: string[], cwd = project): Promise<{code: number; stdout: string; stderr: string}> {
  try {
    const {stdout, stderr} = await run(join(project, 'node_modules', '.bin', 'evt'), args, {
      cwd,
      env: userEnv(),
      timeout: 120_000,
    })
    return {code: 0, stdout, stderr}
  } catch (err) {
    const e = err as {code?: number; stdout?: string; stderr?: string}
    return {code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? ''}
  }
}

/** The README's library snippet, exactly as printed there. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### As a library'))
  const match = /```ts\n([\s\S]*?)```/.exec(section)
  if (!match) throw new Error('README has no ```ts block under "As a library"')
  return match[1]
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evt-package-'))
  project = join(dir, 'app')
  // `npm test` has just built dist/: pack what a user would download, without building again.
  const {stdout} = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], {
    cwd: root,
    env: userEnv(),
  })
  const tarball = join(dir, stdout.trim().split('\n').at(-1) as string)
  await run('mkdir', ['-p', project])
  await writeFile(join(project, 'package.json'), JSON.stringify({name: 'app', private: true, type: 'module'}))
  await run('npm', ['install', '--no-audit', '--no-fund', tarball], {cwd: project, env: userEnv(), timeout: 240_000})
}, 300_000)

afterAll(async () => {
  if (project && existsSync(join(project, '.evt'))) await evt(['down'])
  if (harbour && existsSync(join(harbour, '.evt'))) await evt(['down'], harbour)
  if (dir) await rm(dir, {recursive: true, force: true})
})

describe('the packed tarball installed in an empty folder', () => {
  it('installs without the container stack and with no install script to approve', async () => {
    const installed = await readdir(join(project, 'node_modules'))
    expect(installed).toContain('evt-rabbitmq')
    expect(installed).not.toContain('testcontainers')
    expect(installed).not.toContain('cpu-features')
    // The built-in fixtures ship parsed (see src/catalogue/parsed-cache.ts): the catalogue starts without YAML.
    const cache = JSON.parse(
      await readFile(
        join(project, 'node_modules', 'evt-rabbitmq', 'dist', 'catalogue', 'parsed-fixtures.json'),
        'utf8',
      ),
    )
    expect(Object.keys(cache).length).toBeGreaterThan(30)
    // And faker's English data as JSON (src/catalogue/faker-locale.ts), written for the installed faker.
    const fakerData = await readFile(
      join(project, 'node_modules', 'evt-rabbitmq', 'dist', 'catalogue', 'faker-en.json'),
      'latin1',
    )
    expect(JSON.parse(fakerData.slice(0, fakerData.indexOf('\n'))).faker).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('runs the CLI from the folder: version, catalogue, up, publish, status, down', async () => {
    expect((await evt(['--version'])).stdout).toMatch(/^evt-rabbitmq\/\d+\.\d+\.\d+ /)
    const events = await evt(['events', 'order.created', '--json'])
    expect(events.code, events.stdout + events.stderr).toBe(0)
    expect(JSON.parse(events.stdout).name).toBe('order.created')

    const up = await evt(['up', '--runtime', 'local', '--json'])
    expect(up.code, up.stdout + up.stderr).toBe(0)
    const port = Number(new URL(JSON.parse(up.stdout).amqpUrl).port)
    const published = await evt(['publish', 'order.created', '--json'])
    expect(published.code, published.stdout + published.stderr).toBe(0)
    expect(JSON.parse(published.stdout).totals.confirmed).toBe(1)
    const down = await evt(['down'])
    expect(down.code, down.stdout + down.stderr).toBe(0)
    expect(await amqpAnswers('127.0.0.1', port)).toBe(false)
    expect(existsSync(join(project, '.evt', 'nodes', 'default'))).toBe(false)
  })

  it('says how to get the container runtime when its libraries are not installed', async () => {
    const r = await evt(['up', '--runtime', 'container', '--name', 'c'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/npm i(nstall)? .*testcontainers/)
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
  })

  it("type-checks and runs the README's library snippet against the installed package", async () => {
    const snippet = await readmeSnippet()
    await writeFile(join(project, 'snippet.ts'), snippet)
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['snippet.ts'],
      }),
    )
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {cwd: project})
    await writeFile(join(project, 'snippet.mjs'), snippet)
    const {stderr} = await run(process.execPath, ['snippet.mjs'], {cwd: project, env: userEnv(), timeout: 180_000})
    expect(stderr).toBe('')
  })

  it('a project from an AsyncAPI 3 document: init, up, publish, verify, scenario topology, down', async () => {
    harbour = join(dir, 'harbour')
    await run('mkdir', ['-p', harbour])
    const doc = join(root, 'test', 'fixtures', 'asyncapi', 'harbour-3.0.yaml')
    await writeFile(join(harbour, 'harbour.yaml'), await readFile(doc, 'utf8'))
    // AsyncAPI support is an optional peer: without it, one line says how to get it.
    const missing = await evt(['init', '--asyncapi', 'harbour.yaml'], harbour)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/npm i @asyncapi\/parser@/)
    await run('npm', ['install', '--no-audit', '--no-fund', '@asyncapi/parser@3.6.6'], {
      cwd: project,
      env: userEnv(),
      timeout: 240_000,
    })

    const init = await evt(['init', '--asyncapi', 'harbour.yaml', '--json'], harbour)
    expect(init.code, init.stdout + init.stderr).toBe(0)
    expect(JSON.parse(init.stdout)).toMatchObject({name: 'Harbour Ops', events: 3, exchanges: 2, queues: 2})
    const up = await evt(['up', '--runtime', 'local', '--json'], harbour)
    expect(up.code, up.stdout + up.stderr).toBe(0)
    expect(JSON.parse(up.stdout).provision.vhosts).toEqual(['harbour'])

    const verify = spawn(
      join(project, 'node_modules', '.bin', 'evt'),
      ['verify', 'harbour.events', '--count', '2', '--timeout', '60', '--junit', 'contracts.xml'],
      {cwd: harbour, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe']},
    )
    let out = ''
    let err = ''
    verify.stdout.on('data', (d) => (out += d))
    verify.stderr.on('data', (d) => (err += d))
    const exit = new Promise<number | null>((resolve) => verify.on('close', resolve))
    const deadline = Date.now() + 30_000
    while (!/tapping/.test(err)) {
      if (verify.exitCode !== null || Date.now() > deadline) throw new Error(`verify did not start: ${err}`)
      await new Promise((r) => setTimeout(r, 25))
    }
    const published = await evt(['publish', 'vessel.arrived', '--count', '2', '--json'], harbour)
    expect(published.code, published.stdout + published.stderr).toBe(0)
    expect(JSON.parse(published.stdout).totals.confirmed).toBe(2)
    const checked = {code: await exit, stdout: out, stderr: err}
    expect(checked.code, checked.stdout + checked.stderr).toBe(0)
    expect(checked.stdout).toContain('2 valid, 0 invalid, 0 unknown')
    expect(await readFile(join(harbour, 'contracts.xml'), 'utf8')).toContain('tests="2"')

    const scenario = await evt(['scenario', 'topology', '--json'], harbour)
    expect(scenario.code, scenario.stdout + scenario.stderr).toBe(0)
    const exported = await evt(['events', '--asyncapi', 'exported.yaml', '--json'], harbour)
    expect(exported.code, exported.stdout + exported.stderr).toBe(0)
    expect(JSON.parse(exported.stdout)).toMatchObject({messages: 3})
    // Shell completion in the project: its event types, its broker, the built-in scenarios.
    const complete = async (words: string[]) => {
      const script = `eval "$(evt completion bash)"; COMP_WORDS=(evt ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _evt_complete; printf '%s\\n' "\${COMPREPLY[@]}"`
      const {stdout} = await run('bash', ['-c', script], {
        cwd: harbour,
        env: {...userEnv(), PATH: `${join(project, 'node_modules', '.bin')}:${process.env.PATH}`},
      })
      return stdout.trim().split('\n')
    }
    expect(await complete(['publish', 'vessel.'])).toEqual(['vessel.arrived'])
    expect(await complete(['status', '--name', ''])).toEqual(['default'])
    expect(await complete(['scenario', 'topo'])).toEqual(['topology'])

    const down = await evt(['down'], harbour)
    expect(down.code, down.stdout + down.stderr).toBe(0)
    // It installs a package from the registry and starts a node: minutes on a loaded runner.
  }, 360_000)
})
