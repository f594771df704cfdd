import {mkdtemp, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {passwordEnvName, passwordFor, readStoredPassword, storePasswords} from '../../src/topology/passwords.js'

let home: string
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'evt-pw-'))
})
afterAll(async () => {
  await rm(home, {recursive: true, force: true})
})

const broker = 'http://127.0.0.1:15672'

describe('provisioned user passwords', () => {
  it('names the env variable after the user', () => {
    expect(passwordEnvName('customers_app')).toBe('EVT_PASSWORD_CUSTOMERS_APP')
    expect(passwordEnvName('crm-service.v2')).toBe('EVT_PASSWORD_CRM_SERVICE_V2')
  })

  it('prefers env, then the store, then generates', async () => {
    const env = {EVT_PASSWORD_APP: 'from-env'}
    expect(await passwordFor('app', {home, managementBaseUrl: broker, env})).toEqual({
      password: 'from-env',
      source: 'env',
    })
    const generated = await passwordFor('app', {home, managementBaseUrl: broker, env: {}})
    expect(generated.source).toBe('generated')
    expect(generated.password.length).toBeGreaterThanOrEqual(20)
    await storePasswords(home, broker, {app: generated.password})
    expect(await passwordFor('app', {home, managementBaseUrl: broker, env: {}})).toEqual({
      password: generated.password,
      source: 'stored',
    })
  })

  it('keeps passwords per broker in a 0600 file', async () => {
    await storePasswords(home, 'http://127.0.0.1:1/', {other: 'x'})
    expect(await readStoredPassword(home, 'http://127.0.0.1:1', 'other')).toBe('x')
    expect(await readStoredPassword(home, broker, 'other')).toBeUndefined()
    expect((await stat(join(home, 'passwords.json'))).mode & 0o777).toBe(0o600)
  })
})
