import {describe, expect, it} from 'vitest'
import {createCatalogue, parseEventType} from '../../src/catalogue/catalogue.js'
import {checkMessage, keyMatcher, matchType, type TappedMessage} from '../../src/contracts/check.js'
import {verifyJunit} from '../../src/contracts/report.js'
import type {VerifyReport} from '../../src/contracts/verify.js'

const type = (name: string, routingKey: string, exchange = 'harbour.events') =>
  parseEventType(
    `${name}.json`,
    JSON.stringify({
      name,
      system: 'harbour',
      vhost: 'harbour',
      exchange,
      routingKey,
      description: name,
      source: 'ops',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['vesselId', 'containers'],
        properties: {
          vesselId: {type: 'string', pattern: '^IMO-\\d{7}$'},
          containers: {type: 'integer', maximum: 25000},
          cranes: {type: 'array', items: {type: 'integer', minimum: 1}},
        },
      },
    }),
  )
const arrived = type('vessel.arrived', 'vessel.{data.berth}.arrived')
const departed = type('vessel.departed', 'vessel.departed')
const held = type('customs.hold.placed', 'customs.hold.placed', 'harbour.customs')
const types = createCatalogue([arrived, departed, held]).list()

function msg(routingKey: string, body: unknown, extra: Partial<TappedMessage> = {}): TappedMessage {
  return {
    seq: 1,
    vhost: 'harbour',
    exchange: 'harbour.events',
    routingKey,
    properties: {},
    bodyEncoding: 'json',
    body,
    ...extra,
  }
}

describe('contract checks', () => {
  it('routing-key templates match concrete keys word by word', () => {
    expect(keyMatcher('vessel.{data.berth}.arrived').test('vessel.north.arrived')).toBe(true)
    expect(keyMatcher('vessel.{data.berth}.arrived').test('vessel.north.south.arrived')).toBe(false)
    expect(keyMatcher('a+b.c').test('a+b.c')).toBe(true)
    expect(keyMatcher('a+b.c').test('aab.c')).toBe(false)
  })

  it('a message is matched by its type, else by exchange and routing key', () => {
    expect(matchType(types, msg('vessel.east.arrived', {}))?.name).toBe('vessel.arrived')
    expect(matchType(types, msg('other.key', {}, {properties: {type: 'vessel.departed'}}))?.name).toBe(
      'vessel.departed',
    )
    expect(matchType(types, msg('customs.hold.placed', {}))).toBeUndefined()
    expect(matchType(types, msg('customs.hold.placed', {}, {exchange: 'harbour.customs'}))?.name).toBe(
      'customs.hold.placed',
    )
  })

  it('reports every violation with its JSON path, inside the envelope data or on the bare body', async () => {
    const bad = {vesselId: 'IMO-12', containers: 30000, cranes: [2, 0], extra: true}
    const bare = await checkMessage(types, msg('vessel.north.arrived', bad), 'none')
    expect(bare.status).toBe('invalid')
    expect(bare.type).toBe('harbour/vessel.arrived')
    expect(bare.violations).toEqual(
      expect.arrayContaining([
        {path: '$', message: 'has unknown property "extra"'},
        {path: '$.vesselId', message: 'must match pattern "^IMO-\\d{7}$"'},
        {path: '$.containers', message: 'must be <= 25000'},
        {path: '$.cranes[1]', message: 'must be >= 1'},
      ]),
    )
    const wrapped = await checkMessage(
      types,
      msg('vessel.north.arrived', {type: 'vessel.arrived', data: {}}),
      'standard',
    )
    expect(wrapped.violations).toEqual([{path: '$.data', message: 'must have property "vesselId"'}, expect.anything()])
    const good = await checkMessage(types, msg('vessel.departed', {vesselId: 'IMO-1234567', containers: 3}), 'none')
    expect(good).toMatchObject({status: 'valid', violations: []})
    const notEnvelope = await checkMessage(types, msg('vessel.departed', {vesselId: 'IMO-1234567'}), 'standard')
    expect(notEnvelope.violations[0]?.message).toContain('envelope')
    const unknown = await checkMessage(types, msg('crane.broken', {}), 'none')
    expect(unknown.status).toBe('unknown')
  })

  it('the JUnit report has one testcase per message and a failure per broken one', async () => {
    const bad = await checkMessage(types, msg('vessel.departed', {vesselId: 'x', containers: 1}), 'none')
    const good = await checkMessage(types, msg('vessel.departed', {vesselId: 'IMO-1234567', containers: 1}), 'none')
    const report: VerifyReport = {
      targets: ['harbour.events'],
      envelope: 'none',
      messages: 2,
      valid: 1,
      invalid: 1,
      unknown: 0,
      reason: 'count',
      seconds: 1.5,
      byType: {},
      failures: [bad],
      results: [good, bad],
    }
    const xml = verifyJunit(report)
    expect(xml).toContain('tests="2"')
    expect(xml).toContain('failures="1"')
    expect(xml).toContain('$.vesselId must match pattern')
  })
})
