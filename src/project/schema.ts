/** JSON Schema of evt.yaml (draft-07, checked with ajv). Unknown keys are mistakes the user should hear about. */
export const PROJECT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: {type: 'string', minLength: 1},
    include: {
      description: '"builtin" for every seed system, or "builtin/<system>" for one',
      type: 'array',
      items: {type: 'string', pattern: '^builtin(/[a-z0-9][a-z0-9_-]*)?$'},
    },
    events: {description: 'Folders of event type files', type: 'array', items: {type: 'string', minLength: 1}},
    topology: {
      description: 'RabbitMQ definitions files, or folders of them',
      type: 'array',
      items: {type: 'string', minLength: 1},
    },
    scenarios: {description: 'Folders of scenario files', type: 'array', items: {type: 'string', minLength: 1}},
    broker: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: {type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,39}$'},
        runtime: {enum: ['auto', 'local', 'container', 'external']},
        image: {type: 'string', minLength: 1},
      },
    },
    publish: {
      type: 'object',
      additionalProperties: false,
      properties: {
        tenant: {type: 'string', minLength: 1},
        source: {type: 'string', minLength: 1},
        envelope: {enum: ['standard', 'none', 'cloudevents']},
      },
    },
  },
} as const

export const PROJECT_FILE_NAMES = ['evt.yaml', 'evt.yml', 'evt.config.yaml', 'evt.config.yml', 'evt.config.json']
