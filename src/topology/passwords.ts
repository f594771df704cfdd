import {randomBytes} from 'node:crypto'
import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

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
  const store = await readStore(home)
  const key = brokerKey(managementBaseUrl)
  store[key] = {...store[key], ...passwords}
  await mkdir(home, {recursive: true, mode: 0o700})
  const file = storePath(home)
  await writeFile(file, `${JSON.stringify(store, null, 2)}\n`, {mode: 0o600})
  await chmod(file, 0o600)
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
