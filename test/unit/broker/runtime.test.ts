import {describe, expect, it} from 'vitest'
import {containerSpec, containerStartError, DEFAULT_IMAGE, dockerAnswers} from '../../../src/broker/container.js'
import {selectRuntime} from '../../../src/broker/index.js'
import {nodeConfig, nodeEnv} from '../../../src/broker/local.js'
import type {LocalNodeFacts} from '../../../src/broker/types.js'
import {EvtError} from '../../../src/errors.js'

const probe = (docker: boolean, rabbitmq: boolean) => ({
  docker: async () => docker,
  rabbitmqInstalled: () => rabbitmq,
})

describe('selectRuntime (auto)', () => {
  it('prefers a container when Docker answers', async () => {
    expect(await selectRuntime('auto', {}, probe(true, true))).toBe('container')
  })
  it('falls back to a local node when only rabbitmq-server is installed', async () => {
    expect(await selectRuntime('auto', {}, probe(false, true))).toBe('local')
  })
  it('uses the external broker when a URL is given', async () => {
    expect(await selectRuntime('auto', {url: 'amqp://h'}, probe(true, true))).toBe('external')
  })
  it('keeps an explicit choice', async () => {
    expect(await selectRuntime('local', {}, probe(true, false))).toBe('local')
  })
  it('exits 3 naming both fixes and --url when neither is there', async () => {
    const err = await selectRuntime('auto', {}, probe(false, false)).catch((e) => e)
    expect(err).toBeInstanceOf(EvtError)
    expect(err.exitCode).toBe(3)
    const text = `${err.message} ${err.hint}`
    expect(text).toMatch(/Docker/)
    expect(text).toMatch(/apt-get install rabbitmq-server/)
    expect(text).toMatch(/brew install rabbitmq/)
    expect(text).toMatch(/--url/)
  })
})

describe('container runtime configuration', () => {
  const base = {amqpPort: 41000, managementPort: 41001, username: 'evt', password: 'pw'}
  it('uses the management image by default and fixed host ports', () => {
    const spec = containerSpec({...base, name: 'ci'})
    expect(spec.image).toBe(DEFAULT_IMAGE)
    expect(DEFAULT_IMAGE).toMatch(/management/)
    expect(spec.ports).toEqual([
      {container: 5672, host: 41000},
      {container: 15672, host: 41001},
    ])
    expect(spec.env).toEqual({RABBITMQ_DEFAULT_USER: 'evt', RABBITMQ_DEFAULT_PASS: 'pw'})
    expect(spec.labels['dev.evt.broker']).toBe('ci')
    expect(spec.name).toMatch(/^evt-ci-[0-9a-f]{6}$/)
  })
  it('honours --image', () => {
    expect(containerSpec({...base, image: 'rabbitmq:4.1-management'}).image).toBe('rabbitmq:4.1-management')
  })
  it('turns the reaper off only when the container must outlive the process (evt up)', () => {
    expect(containerSpec({...base, detached: true}).disableReaper).toBe(true)
    expect(containerSpec({...base}).disableReaper).toBe(false)
  })
  it('turns Testcontainers failures into exit 3 with the fixes', () => {
    const noDocker = containerStartError(
      new Error('Could not find a working container runtime strategy'),
      DEFAULT_IMAGE,
    )
    expect(noDocker.exitCode).toBe(3)
    expect(noDocker.message).toMatch(/Docker does not answer/)
    expect(noDocker.hint).toMatch(/--runtime local/)
    const badImage = containerStartError(new Error('pull access denied for nope'), 'nope:1')
    expect(badImage.exitCode).toBe(3)
    expect(badImage.message).toContain('nope:1')
  })
  it('finds no Docker engine behind a socket that does not exist', async () => {
    expect(await dockerAnswers({DOCKER_HOST: 'unix:///nonexistent/docker.sock'})).toBe(false)
  })
})

describe('local node isolation', () => {
  const facts: LocalNodeFacts = {
    nodeName: 'evt-x-abc@localhost',
    dataDir: '/tmp/evt-x',
    launcherPid: 0,
    ports: {amqp: 1, management: 2, dist: 3, epmd: 4},
    ownsDataDir: true,
  }
  it('gives the node its own home (cookie), ports, epmd and files, loopback only', () => {
    const env = nodeEnv(facts, {PATH: '/bin'})
    expect(env).toMatchObject({
      HOME: '/tmp/evt-x',
      RABBITMQ_NODENAME: 'evt-x-abc@localhost',
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: '1',
      RABBITMQ_DIST_PORT: '3',
      ERL_EPMD_PORT: '4',
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_CONF_ENV_FILE: '/tmp/evt-x/rabbitmq-env.conf',
      RABBITMQ_MNESIA_BASE: '/tmp/evt-x/mnesia',
    })
    expect(env.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS).toContain('{127,0,0,1}')
  })
  it('listens on loopback with its own user and management port', () => {
    const conf = nodeConfig(facts, 'evt', 'pw')
    expect(conf).toContain('listeners.tcp.1 = 127.0.0.1:1')
    expect(conf).toContain('management.tcp.port = 2')
    expect(conf).toContain('management.tcp.ip = 127.0.0.1')
    expect(conf).toContain('default_user = evt')
  })
})
