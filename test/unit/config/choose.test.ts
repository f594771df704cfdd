import {describe, expect, it} from 'vitest'
import {type BrokerChoiceInput, checkedUrl, chooseBroker} from '../../../src/config/resolve.js'
import {EvtError} from '../../../src/errors.js'

const input = (over: Partial<BrokerChoiceInput>): BrokerChoiceInput => ({
  env: {},
  home: '/p/.evt',
  recorded: [],
  ...over,
})

function errorOf(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    if (err instanceof EvtError) return err
    throw err
  }
  throw new Error('expected an error')
}

describe('chooseBroker never guesses', () => {
  it('a plain command after `evt up --name ci` uses ci, not guest@localhost', () => {
    expect(chooseBroker(input({recorded: ['ci']}))).toEqual({kind: 'record', name: 'ci', how: 'only'})
  })
  it('several recorded: "default" if there is one, else exit 2 naming them', () => {
    expect(chooseBroker(input({recorded: ['ci', 'default']}))).toEqual({
      kind: 'record',
      name: 'default',
      how: 'default',
    })
    const err = errorOf(() => chooseBroker(input({recorded: ['a', 'b']})))
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain('a, b')
  })
  it('--name of a broker that is not recorded (stopped, typo): exit 3 naming what is recorded', () => {
    const err = errorOf(() => chooseBroker(input({flagName: 'typo', recorded: ['ci']})))
    expect(err.exitCode).toBe(3)
    expect(err.message).toContain('"typo"')
    expect(err.message).toContain('/p/.evt')
    expect(err.hint).toContain('Recorded: ci')
    const none = errorOf(() => chooseBroker(input({env: {EVT_BROKER: 'ci'}})))
    expect(none.exitCode).toBe(3)
    expect(none.hint).toContain('No broker is recorded')
  })
  it('--name and EVT_BROKER win over RABBITMQ_URL; --url wins over all', () => {
    const env = {RABBITMQ_URL: 'amqp://h', EVT_BROKER: 'ci'}
    expect(chooseBroker(input({env, recorded: ['ci', 'x']}))).toMatchObject({kind: 'record', name: 'ci', how: 'env'})
    expect(chooseBroker(input({env: {RABBITMQ_URL: 'amqp://h'}, recorded: ['ci']}))).toEqual({
      kind: 'url',
      source: 'env',
    })
    expect(chooseBroker(input({env, flagUrl: 'amqp://f', recorded: ['ci']}))).toEqual({kind: 'url', source: 'flag'})
    expect(errorOf(() => chooseBroker(input({flagUrl: 'amqp://f', flagName: 'ci'}))).exitCode).toBe(2)
  })
  it('nothing recorded, nothing said: the localhost default', () => {
    expect(chooseBroker(input({}))).toEqual({kind: 'default'})
  })
  it('validates names the same way everywhere: no paths', () => {
    for (const name of ['../passwords', 'a/b', '.', 'A']) {
      expect(errorOf(() => chooseBroker(input({flagName: name}))).exitCode).toBe(2)
      expect(errorOf(() => chooseBroker(input({env: {EVT_BROKER: name}}))).exitCode).toBe(2)
    }
  })
})

describe('URLs from the user', () => {
  it('a malformed URL is exit 2, with the password masked even without a scheme', () => {
    for (const raw of ['not a url', 'user:secret@host:5672', 'http://h:1', 'amqp://']) {
      const err = errorOf(() => checkedUrl(raw, '--url', 'amqp'))
      expect(err.exitCode).toBe(2)
      expect(err.message).not.toContain('secret')
    }
    expect(checkedUrl('amqp://u:p@h:1/v', '--url', 'amqp')).toBe('amqp://u:p@h:1/v')
  })
})
