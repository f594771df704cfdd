/**
 * JSON Schema of RabbitMQ's definitions format (management export/import, 3.10–3.13), strict about
 * unknown keys so a typo in a hand-written file is caught before anything is applied.
 */
const args = {type: 'object', default: {}}
const name = {type: 'string', minLength: 1}
const vhost = {type: 'string', minLength: 1}

export const definitionsSchema = {
  $id: 'evt/definitions',
  type: 'object',
  additionalProperties: false,
  properties: {
    rabbit_version: {type: 'string'},
    rabbitmq_version: {type: 'string'},
    product_name: {type: 'string'},
    product_version: {type: 'string'},
    users: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        // RabbitMQ's import refuses a user without tags (tags_not_present).
        required: ['name', 'tags'],
        properties: {
          name,
          tags: {anyOf: [{type: 'string'}, {type: 'array', items: {type: 'string'}}]},
          password_hash: {type: 'string'},
          hashing_algorithm: {type: 'string'},
          password_env: {type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$'},
          limits: {
            anyOf: [
              {type: 'object', additionalProperties: {type: 'integer'}},
              {type: 'array', maxItems: 0},
            ],
          },
        },
      },
    },
    vhosts: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name,
          description: {type: 'string'},
          tags: {anyOf: [{type: 'string'}, {type: 'array', items: {type: 'string'}}]},
          metadata: {
            type: 'object',
            additionalProperties: false,
            properties: {
              description: {type: 'string'},
              tags: {anyOf: [{type: 'string'}, {type: 'array', items: {type: 'string'}}]},
              default_queue_type: {type: 'string'},
            },
          },
          limits: {},
          default_queue_type: {type: 'string'},
          tracing: {type: 'boolean'},
        },
      },
    },
    permissions: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['user', 'vhost', 'configure', 'write', 'read'],
        properties: {user: name, vhost, configure: {type: 'string'}, write: {type: 'string'}, read: {type: 'string'}},
      },
    },
    topic_permissions: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['user', 'vhost', 'exchange', 'write', 'read'],
        properties: {user: name, vhost, exchange: {type: 'string'}, write: {type: 'string'}, read: {type: 'string'}},
      },
    },
    parameters: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['vhost', 'component', 'name', 'value'],
        properties: {vhost, component: name, name, value: {}},
      },
    },
    global_parameters: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'value'],
        properties: {name, value: {}},
      },
    },
    policies: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['vhost', 'name', 'pattern', 'definition'],
        properties: {
          vhost,
          name,
          pattern: {type: 'string'},
          'apply-to': {
            enum: ['queues', 'exchanges', 'all', 'classic_queues', 'quorum_queues', 'streams'],
            default: 'all',
          },
          definition: {type: 'object'},
          priority: {type: 'integer', default: 0},
        },
      },
    },
    exchanges: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'vhost', 'type'],
        properties: {
          // "" is the default exchange: exports may hold it; RabbitMQ's import skips it.
          name: {type: 'string'},
          vhost,
          type: {type: 'string', minLength: 1},
          durable: {type: 'boolean', default: true},
          auto_delete: {type: 'boolean', default: false},
          internal: {type: 'boolean', default: false},
          arguments: args,
        },
      },
    },
    queues: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'vhost'],
        properties: {
          name,
          vhost,
          durable: {type: 'boolean', default: true},
          auto_delete: {type: 'boolean', default: false},
          arguments: args,
          type: {type: 'string'},
        },
      },
    },
    bindings: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['source', 'vhost', 'destination', 'destination_type'],
        properties: {
          source: {type: 'string'},
          vhost,
          destination: name,
          destination_type: {enum: ['queue', 'exchange']},
          routing_key: {type: 'string', default: ''},
          arguments: args,
        },
      },
    },
  },
} as const
