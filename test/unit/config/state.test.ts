import {chmod, mkdir, mkdtemp, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {BrokerRecord} from '../../../src/broker/types.js'
import {
  isValidBrokerName,
  listBrokerNames,
  listBrokerRecords,
  nodeDataDir,
  readBrokerRecord,
  removeBrokerRecord,
  stateHome,
  writeBrokerRecord,
} from '../../../src/config/state.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, {recursive: true, force: true})))
})

const record = (name: string): BrokerRecord => ({
  name,
  runtime: 'local',
  amqpUrl: 'amqp://evt:pw@127.0.0.1:1',
  managementUrl: 'http://evt:pw@127.0.0.1:2',
  username: 'evt',
  password: 'pw',
  startedAt: 'now',
})

describe('state folder', () => {
  it('is .evt under the current directory, or EVT_HOME', () => {
    expect(stateHome({}, '/work/x')).toBe('/work/x/.evt')
    expect(stateHome({EVT_HOME: '/tmp/h'}, '/work/x')).toBe('/tmp/h')
  })
  it('writes records holding secrets with mode 0600 in a 0700 folder', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-state-'))
    dirs.push(home)
    const file = await writeBrokerRecord(home, record('a'))
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(join(home, 'brokers'))).mode & 0o777).toBe(0o700)
    expect(await readBrokerRecord(home, 'a')).toEqual(record('a'))
    await writeBrokerRecord(home, record('b'))
    expect((await listBrokerRecords(home)).map((r) => r.name).sort()).toEqual(['a', 'b'])
    await removeBrokerRecord(home, 'a')
    expect(await readBrokerRecord(home, 'a')).toBeUndefined()
  })
  it('accepts only safe broker names', () => {
    expect(isValidBrokerName('ci-1')).toBe(true)
    expect(isValidBrokerName('../etc')).toBe(false)
    expect(isValidBrokerName('A')).toBe(false)
  })
})

describe('finding the state folder and trusting what is in it', () => {
  it('walks up from a subfolder to the nearest .evt, as git finds .git; EVT_HOME wins', async () => {
    const root = await mkdtemp(join(tmpdir(), 'evt-walk-'))
    dirs.push(root)
    await mkdir(join(root, '.evt'))
    await mkdir(join(root, 'a', 'b'), {recursive: true})
    expect(stateHome({}, join(root, 'a', 'b'))).toBe(join(root, '.evt'))
    expect(stateHome({EVT_HOME: join(root, 'h')}, join(root, 'a'))).toBe(join(root, 'h'))
  })
  it("a project's root keeps the state beside its evt.yaml, made or not, from any subfolder", async () => {
    const root = await mkdtemp(join(tmpdir(), 'evt-project-'))
    dirs.push(root)
    await mkdir(join(root, 'services', 'orders'), {recursive: true})
    await writeFile(join(root, 'evt.yaml'), 'name: shop\n')
    expect(stateHome({}, join(root, 'services', 'orders'))).toBe(join(root, '.evt'))
    // A nearer .evt still wins, as before.
    await mkdir(join(root, 'services', '.evt'))
    expect(stateHome({}, join(root, 'services', 'orders'))).toBe(join(root, 'services', '.evt'))
  })
  it('EVT_HOME naming a file is exit 2', async () => {
    const root = await mkdtemp(join(tmpdir(), 'evt-file-'))
    dirs.push(root)
    await writeFile(join(root, 'f'), '')
    expect(() => stateHome({EVT_HOME: join(root, 'f')}, root)).toThrow(expect.objectContaining({exitCode: 2}))
  })
  it('leaves the mode of an existing EVT_HOME alone (only its own sub-folders are 0700)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-mode-'))
    dirs.push(home)
    await chmod(home, 0o755)
    await writeBrokerRecord(home, record('a'))
    expect((await stat(home)).mode & 0o777).toBe(0o755)
  })
  it('never turns a name into a path: ../passwords is refused before any file is touched', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-path-'))
    dirs.push(home)
    await writeFile(join(home, 'passwords.json'), '{}')
    await expect(removeBrokerRecord(home, '../passwords')).rejects.toMatchObject({exitCode: 2})
    await expect(readBrokerRecord(home, '../passwords')).rejects.toMatchObject({exitCode: 2})
    expect(() => nodeDataDir(home, '../..')).toThrow()
    expect((await stat(join(home, 'passwords.json'))).isFile()).toBe(true)
  })
  it('a record file claiming another name is read under its file name', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evt-claim-'))
    dirs.push(home)
    await mkdir(join(home, 'brokers'))
    await writeFile(join(home, 'brokers', 'a.json'), JSON.stringify(record('../../x')))
    await writeFile(join(home, 'brokers', 'Bad Name.json'), JSON.stringify(record('x')))
    expect((await readBrokerRecord(home, 'a'))?.name).toBe('a')
    expect(await listBrokerNames(home)).toEqual(['a'])
  })
})
