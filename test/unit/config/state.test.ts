import {mkdtemp, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {BrokerRecord} from '../../../src/broker/types.js'
import {
  isValidBrokerName,
  listBrokerRecords,
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
