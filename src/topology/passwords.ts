import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {withLock} from '../config/lock.js'
import {ensureStateHome, writeSecretFile} from '../config/state.js'

/**
 * Passwords of users `evt provision` created. Fixtures never hold one: EVT_PASSWORD_<USER> from env,
 * else a generated one, kept per broker in <state>/passwords.json (0600) so later runs and other
 * commands can log in as that user.
 */
export function passwordEnvName(user: string): string {
  return `EVT_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`
}

type Store = Record<string, Record<string, string>>

function storePath(home: string): string {
  return join(home, 'passwords.json')
}

/** The key of a broker in the store: its management URL without credentials. */
export function brokerKey(managementBaseUrl: string): string {
  return managementBaseUrl.replace(/\/+$/, '')
}

async function readStore(home: string): Promise<Store> {
  try {
    return JSON.parse(await readFile(storePath(home), 'utf8')) as Store
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
}

export async function readStoredPassword(
  home: string,
  managementBaseUrl: string,
  user: string,
): Promise<string | undefined> {
  return (await readStore(home))[brokerKey(managementBaseUrl)]?.[user]
}

export async function storePasswords(
  home: string,
  managementBaseUrl: string,
  passwords: Record<string, string>,
): Promise<void> {
  if (Object.keys(passwords).length === 0) return
  await updateStore(home, (store) => {
    const key = brokerKey(managementBaseUrl)
    store[key] = {...store[key], ...passwords}
  })
}

/**
 * Read, change and write the store under a lock (concurrent `evt provision` runs lose nothing), written
 * atomically (a crash never leaves half a file).
 */
async function updateStore(home: string, change: (store: Store) => void): Promise<void> {
  await ensureStateHome(home)
  const file = storePath(home)
  await withLock(
    `${file}.lock`,
    async () => {
      const store = await readStore(home)
      change(store)
      await writeSecretFile(file, `${JSON.stringify(store, null, 2)}\n`)
    },
    {what: file, timeoutMs: 30_000},
  )
}

/** `evt down`: the passwords of a removed broker's users go with it (its URL, with or without credentials). */
export async function forgetBrokerPasswords(home: string, managementUrl: string): Promise<void> {
  let key: string
  try {
    const url = new URL(managementUrl)
    url.username = ''
    url.password = ''
    key = brokerKey(url.toString())
  } catch {
    return
  }
  if (!(key in (await readStore(home)))) return
  await updateStore(home, (store) => {
    delete store[key]
  })
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url')
}

export interface PasswordSource {
  password: string
  source: 'env' | 'stored' | 'generated'
}

/** Password for a user about to be created: env, then the store, then a fresh one. */
export async function passwordFor(
  user: string,
  options: {home: string; managementBaseUrl: string; env?: NodeJS.ProcessEnv; envName?: string},
): Promise<PasswordSource> {
  const env = options.env ?? process.env
  const fromEnv = env[options.envName ?? passwordEnvName(user)]
  if (fromEnv) return {password: fromEnv, source: 'env'}
  const stored = await readStoredPassword(options.home, options.managementBaseUrl, user)
  if (stored) return {password: stored, source: 'stored'}
  return {password: generatePassword(), source: 'generated'}
}
