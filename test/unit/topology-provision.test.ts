import {beforeAll, describe, expect, it} from 'vitest'
import type {Definitions} from '../../src/topology/definitions.js'
import {loadTopology} from '../../src/topology/load.js'
import {filterVhost, guestDeletion} from '../../src/topology/provision.js'

describe('guestDeletion', () => {
  it('refuses when guest is the only administrator', () => {
    const verdict = guestDeletion(
      [
        {name: 'guest', tags: ['administrator']},
        {name: 'monitor', tags: 'monitoring'},
      ],
      [],
    )
    expect(verdict).toEqual({present: true, refuse: true, admins: []})
  })

  it('allows it when the definitions bring an administrator', () => {
    const verdict = guestDeletion(
      [{name: 'guest', tags: 'administrator'}],
      [{name: 'customers_app', tags: ['administrator']}],
    )
    expect(verdict).toEqual({present: true, refuse: false, admins: ['customers_app']})
  })

  it('has nothing to do when guest is absent', () => {
    expect(guestDeletion([{name: 'evt', tags: ['administrator']}], [])).toMatchObject({present: false, refuse: false})
  })
})

describe('filterVhost', () => {
  let defs: Definitions
  beforeAll(async () => {
    defs = await loadTopology()
  })

  it('keeps one vhost and the users with permissions there', () => {
    const customers = filterVhost(defs, 'customers')
    expect(customers.vhosts.map((v) => v.name)).toEqual(['customers'])
    expect(customers.users.map((u) => u.name)).toEqual(['customers_app'])
    expect(customers.exchanges.every((e) => e.vhost === 'customers')).toBe(true)
    const courses = filterVhost(defs, 'courses')
    expect(courses.users).toEqual([])
    expect(courses.bindings).toHaveLength(1)
  })
})
