import {describe, expect, it} from 'vitest'
import {
  type CompletionCommand,
  type CompletionSources,
  completeWords,
  completionScript,
} from '../../../src/project/complete.js'

const commands: CompletionCommand[] = [
  {
    id: 'publish',
    flags: {
      count: {type: 'option'},
      envelope: {type: 'option', options: ['standard', 'none']},
      name: {type: 'option'},
    },
  },
  {id: 'scenario', flags: {all: {type: 'boolean'}}},
  {id: 'tail', flags: {queue: {type: 'option'}}},
  {id: 'init', flags: {example: {type: 'option'}}},
  {id: 'status', flags: {}},
]
const sources: CompletionSources = {
  commands: () => commands,
  eventTypes: async () => ['order.created', 'ecommerce/order.created', 'order.paid', 'tutorgo/booking.created'],
  scenarios: async () => ['durability', 'fanout', 'topology'],
  brokers: async () => ['default', 'ci'],
  entities: async () => ['orders', 'notification.orders'],
  systems: () => ['courses', 'tutorgo'],
}

describe('shell completion', () => {
  it.each([
    [[''], ['init', 'publish', 'scenario', 'status', 'tail']],
    [['pu'], ['publish']],
    [
      ['publish', 'order.'],
      ['order.created', 'order.paid'],
    ],
    [['publish', 'tutorgo/'], ['tutorgo/booking.created']],
    [
      ['publish', '--'],
      ['--count', '--envelope', '--name'],
    ],
    [
      ['publish', '--envelope', ''],
      ['none', 'standard'],
    ],
    [
      ['publish', '--name', ''],
      ['ci', 'default'],
    ],
    [['publish', '--count', ''], []],
    [['scenario', 'd'], ['durability']],
    [['tail', '--queue', 'n'], ['notification.orders']],
    [
      ['tail', ''],
      ['notification.orders', 'orders'],
    ],
    [
      ['init', '--example', ''],
      ['courses', 'tutorgo'],
    ],
    [['status', ''], []],
    [['nope', ''], []],
  ])('%j → %j', async (words, expected) => {
    expect(await completeWords(words, sources)).toEqual(expected)
  })

  it('the scripts call `evt complete` with the words typed so far', () => {
    expect(completionScript('bash', 'evt')).toContain('complete -o default -F _evt_complete evt')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion the script must contain, not a template
    expect(completionScript('bash', 'evt')).toContain('evt complete -- "${COMP_WORDS[@]:1:COMP_CWORD}"')
    expect(completionScript('zsh', 'evt')).toContain('compdef _evt_complete evt')
  })
})
