import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: {groupOrder: 0},
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: {groupOrder: 1},
          // One private RabbitMQ node for the whole run; each test file works in its own vhost.
          globalSetup: ['test/helpers/global-broker.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: more parallel files only fight over CPU with the broker.
          maxWorkers: 2,
        },
      },
    ],
  },
})
