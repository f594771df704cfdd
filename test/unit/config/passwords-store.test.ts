import {mkdtemp, readdir, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {forgetBrokerPasswords, readStoredPassword, storePasswords} from '../../../src/topology/passwords.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, {recursive: true, force: true})))
})

describe('passwords.json, written by several evt at once', () => {
  it('loses no entry when many writers race, and leaves no temporary or lock file', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-pwrace-'))
    dirs.push(home)
    const users = Array.from({length: 12}, (_, i) => `u${i}`)
    await Promise.all(users.map((u) => storePasswords(home, 'http://127.0.0.1:1', {[u]: `pw-${u}`})))
    for (const u of users) expect(await readStoredPassword(home, 'http://127.0.0.1:1', u)).toBe(`pw-${u}`)
    expect(await readdir(home)).toEqual(['passwords.json'])
    expect((await stat(join(home, 'passwords.json'))).mode & 0o777).toBe(0o600)
  })
  it('forgets the passwords of a removed broker, given its URL with credentials', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-pwforget-'))
    dirs.push(home)
    await storePasswords(home, 'http://127.0.0.1:1', {a: 'x'})
    await storePasswords(home, 'http://127.0.0.1:2', {b: 'y'})
    await forgetBrokerPasswords(home, 'http://evt:secret@127.0.0.1:1')
    expect(await readStoredPassword(home, 'http://127.0.0.1:1', 'a')).toBeUndefined()
    expect(await readStoredPassword(home, 'http://127.0.0.1:2', 'b')).toBe('y')
  })
})
