import {randomBytes} from 'node:crypto'
import {statSync} from 'node:fs'
import {chmod, mkdir, readdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import type {BrokerRecord} from '../broker/types.js'
import {UsageError} from '../errors.js'
import {PROJECT_FILE_NAMES} from '../project/schema.js'

export const STATE_DIR_NAME = '.evt'

/**
 * Where `evt up` records its brokers: EVT_HOME when set; else the nearest `.evt` folder in the current
 * directory or one of its parents (as git finds `.git`), or beside the nearest project file (evt.yaml) when that
 * comes first; else `.evt` under the current directory.
 * EVT_HOME naming something that is not a folder is exit 2.
 */
export function stateHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.EVT_HOME) {
    const home = resolve(cwd, env.EVT_HOME)
    const kind = statKind(home)
    if (kind !== 'missing' && kind !== 'dir') {
      throw new UsageError(
        `EVT_HOME (${home}) is not a folder`,
        'Point EVT_HOME at a folder (it is created when missing), or unset it',
      )
    }
    return home
  }
  return findStateHome(cwd) ?? join(resolve(cwd), STATE_DIR_NAME)
}

/** The nearest `.evt` folder in dir or its parents; a project's root (its evt.yaml) keeps its own, made or not. */
export function findStateHome(cwd: string): string | undefined {
  let dir = resolve(cwd)
  for (;;) {
    const candidate = join(dir, STATE_DIR_NAME)
    if (statKind(candidate) === 'dir') return candidate
    if (PROJECT_FILE_NAMES.some((name) => statKind(join(dir, name)) === 'other')) return candidate
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

function statKind(path: string): 'missing' | 'dir' | 'other' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other'
  } catch {
    return 'missing'
  }
}

export const DEFAULT_BROKER_NAME = 'default'

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/

export function isValidBrokerName(name: string): boolean {
  return NAME_PATTERN.test(name)
}

/** Every place that takes a broker name checks it here: a name is never a path. */
export function validateBrokerName(name: string, from = '--name'): string {
  if (!isValidBrokerName(name)) {
    throw new UsageError(
      `invalid broker name "${name}" (${from})`,
      'Use lower-case letters, digits, - and _, starting with a letter or digit (at most 40 characters)',
    )
  }
  return name
}

export function brokersDir(home: string): string {
  return join(home, 'brokers')
}

function recordPath(home: string, name: string): string {
  return join(brokersDir(home), `${validateBrokerName(name)}.json`)
}

/** The data folder `evt up` gives a local broker: the only folder `evt down` ever removes. */
export function nodeDataDir(home: string, name: string): string {
  return join(home, 'nodes', validateBrokerName(name))
}

/**
 * Create the state folder (0700) when it is missing. A folder that exists already (EVT_HOME=/tmp, a
 * project folder) keeps its mode: only evt's own sub-folders are made private.
 */
export async function ensureStateHome(home: string): Promise<void> {
  if (statKind(home) === 'missing') await mkdir(home, {recursive: true, mode: 0o700})
}

/** A private sub-folder of the state folder (brokers/, nodes/, locks/), 0700. */
export async function ensurePrivateDir(home: string, sub: string): Promise<string> {
  await ensureStateHome(home)
  const dir = join(home, sub)
  await mkdir(dir, {recursive: true, mode: 0o700})
  await chmod(dir, 0o700)
  return dir
}

export async function readBrokerRecord(home: string, name: string): Promise<BrokerRecord | undefined> {
  let text: string
  try {
    text = await readFile(recordPath(home, name), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  let record: BrokerRecord
  try {
    record = JSON.parse(text) as BrokerRecord
  } catch {
    throw new UsageError(
      `the record of broker "${name}" is not valid JSON (${recordPath(home, name)})`,
      `Remove it, and stop its broker by hand if it still runs`,
    )
  }
  // The file's name is the broker's name: a record claiming another name is not trusted.
  return {...record, name}
}

/** Write a file holding secrets atomically: a 0600 temporary file renamed over the old one. */
export async function writeSecretFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, text, {mode: 0o600, flag: 'wx'})
    await chmod(tmp, 0o600)
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, {force: true})
    throw err
  }
}

export async function writeBrokerRecord(home: string, record: BrokerRecord): Promise<string> {
  await ensurePrivateDir(home, 'brokers')
  const file = recordPath(home, record.name)
  await writeSecretFile(file, `${JSON.stringify(record, null, 2)}\n`)
  return file
}

export async function removeBrokerRecord(home: string, name: string): Promise<void> {
  await rm(recordPath(home, name), {force: true})
}

/** The names of the recorded brokers, sorted (files with a name that is not valid are ignored). */
export async function listBrokerNames(home: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(brokersDir(home))
  } catch {
    return []
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.replace(/\.json$/, ''))
    .filter(isValidBrokerName)
    .sort()
}

export async function listBrokerRecords(home: string): Promise<BrokerRecord[]> {
  const records = await Promise.all((await listBrokerNames(home)).map((n) => readBrokerRecord(home, n)))
  return records.filter((r): r is BrokerRecord => r !== undefined)
}
