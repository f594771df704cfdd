import {chmod, mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import type {BrokerRecord} from '../broker/types.js'

/**
 * Where `evt up` records its brokers: `.evt/` under the current directory, or EVT_HOME.
 * Each broker is one JSON file holding its credentials, so files are 0600 and the folder 0700.
 */
export function stateHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return env.EVT_HOME ? resolve(env.EVT_HOME) : join(cwd, '.evt')
}

export const DEFAULT_BROKER_NAME = 'default'

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/

export function isValidBrokerName(name: string): boolean {
  return NAME_PATTERN.test(name)
}

function recordPath(home: string, name: string): string {
  return join(home, 'brokers', `${name}.json`)
}

export async function readBrokerRecord(home: string, name: string): Promise<BrokerRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(home, name), 'utf8')) as BrokerRecord
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function writeBrokerRecord(home: string, record: BrokerRecord): Promise<string> {
  const dir = join(home, 'brokers')
  await mkdir(dir, {recursive: true, mode: 0o700})
  await chmod(home, 0o700)
  await chmod(dir, 0o700)
  const file = recordPath(home, record.name)
  await writeFile(file, JSON.stringify(record, null, 2) + '\n', {mode: 0o600})
  // writeFile keeps the mode of an existing file: set it again.
  await chmod(file, 0o600)
  return file
}

export async function removeBrokerRecord(home: string, name: string): Promise<void> {
  await rm(recordPath(home, name), {force: true})
}

export async function listBrokerRecords(home: string): Promise<BrokerRecord[]> {
  let names: string[]
  try {
    names = await readdir(join(home, 'brokers'))
  } catch {
    return []
  }
  const records = await Promise.all(
    names.filter((n) => n.endsWith('.json')).map((n) => readBrokerRecord(home, n.replace(/\.json$/, ''))),
  )
  return records.filter((r): r is BrokerRecord => r !== undefined)
}
