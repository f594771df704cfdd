import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {
  bindAddress,
  containerHost,
  containerSpec,
  containerStartError,
  DEFAULT_IMAGE,
  defaultImage,
  dockerAnswers,
} from '../../../src/broker/container.js'
import {demux, dockerEndpoint} from '../../../src/broker/docker-api.js'
import {selectRuntime} from '../../../src/broker/index.js'
import {nodeConfig, nodeEnv} from '../../../src/broker/local.js'
import {freePort, portInUse} from '../../../src/broker/probe.js'
import type {LocalNodeFacts} from '../../../src/broker/types.js'
import {EvtError} from '../../../src/errors.js'

const probe = (docker: boolean, rabbitmq: boolean, why = 'no Docker engine answers at unix:///x') => ({
  container: async () => (docker ? undefined : why),
  rabbitmqInstalled: () => rabbitmq,
})

describe('selectRuntime (auto)', () => {
  it('falls back to a local node with a one-line notice when Docker answers but the image cannot be had', async () => {
    const notices: string[] = []
    const why = 'the image evt/x:1 is not in Docker at unix:///s and cannot be pulled (no registry)'
    const runtime = await selectRuntime(
      'auto',
      {image: 'evt/x:1', onNotice: (l) => notices.push(l)},
      probe(false, true, why),
    )
    expect(runtime).toBe('local')
    expect(notices).toHaveLength(1)
    expect(notices[0]).toContain('evt/x:1')
    expect(notices[0]).not.toContain('\n')
  })
  it('asks about the image it was given, else EVT_IMAGE', async () => {
    const asked: string[] = []
    const p = {
      container: async (image: string) => {
        asked.push(image)
        return undefined
      },
      rabbitmqInstalled: () => true,
    }
    await selectRuntime('auto', {image: 'mine:1'}, p)
    expect(asked).toEqual(['mine:1'])
    expect(defaultImage({EVT_IMAGE: 'evt/rabbitmq-debian:latest'})).toBe('evt/rabbitmq-debian:latest')
    expect(defaultImage({})).toBe(DEFAULT_IMAGE)
  })
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
    expect(spec.env).toEqual({
      RABBITMQ_DEFAULT_USER: 'evt',
      RABBITMQ_DEFAULT_PASS: 'pw',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+stbt u',
    })
    expect(spec.labels['evt.broker']).toBe('ci')
    expect(spec.labels['evt.run']).toMatch(/^[0-9a-f]{12}$/)
    expect(spec.name).toMatch(/^evt-ci-[0-9a-f]{6}$/)
  })
  it('publishes only 5672 and 15672, on loopback for a local engine', () => {
    const spec = containerSpec({...base, name: 'ci', stateHome: '/h'}, {})
    expect(spec.ports.map((p) => p.container)).toEqual([5672, 15672])
    expect(spec.bindIp).toBe('127.0.0.1')
    expect(spec.labels['evt.state']).toBe('/h')
  })
  it('honours --image, then EVT_IMAGE', () => {
    expect(containerSpec({...base, image: 'rabbitmq:4.1-management'}).image).toBe('rabbitmq:4.1-management')
    expect(containerSpec({...base}, {EVT_IMAGE: 'evt/rabbitmq-debian:abc'}).image).toBe('evt/rabbitmq-debian:abc')
  })
  it('reports the host of a tcp DOCKER_HOST, or TESTCONTAINERS_HOST_OVERRIDE, and binds accordingly', () => {
    expect(containerHost({})).toBe('127.0.0.1')
    expect(containerHost({DOCKER_HOST: 'unix:///tmp/d.sock'})).toBe('127.0.0.1')
    expect(containerHost({DOCKER_HOST: 'tcp://10.1.2.3:2375'})).toBe('10.1.2.3')
    expect(containerHost({DOCKER_HOST: 'tcp://10.1.2.3:2375', TESTCONTAINERS_HOST_OVERRIDE: 'docker.lan'})).toBe(
      'docker.lan',
    )
    expect(bindAddress('127.0.0.1', {})).toBe('127.0.0.1')
    expect(bindAddress('10.1.2.3', {})).toBe('')
    expect(bindAddress('127.0.0.1', {EVT_CONTAINER_BIND: '0.0.0.0'})).toBe('0.0.0.0')
    expect(dockerEndpoint({DOCKER_HOST: 'tcp://h:2375'})).toMatchObject({hostname: 'h', port: 2375})
    expect(dockerEndpoint({DOCKER_HOST: 'unix:///s.sock'})).toMatchObject({socketPath: '/s.sock'})
    expect(dockerEndpoint({})).toMatchObject({socketPath: '/var/run/docker.sock'})
  })
  it("reads Docker's multiplexed log stream", () => {
    const frame = (s: string, stream = 1) => {
      const b = Buffer.from(s)
      const h = Buffer.alloc(8)
      h[0] = stream
      h.writeUInt32BE(b.length, 4)
      return Buffer.concat([h, b])
    }
    expect(demux(Buffer.concat([frame('a\n'), frame('b\n', 2)]))).toBe('a\nb\n')
    expect(demux(Buffer.from('plain'))).toBe('plain')
  })
  it('turns Testcontainers failures into exit 3 with the fixes', () => {
    const ep = dockerEndpoint({DOCKER_HOST: 'unix:///tmp/evt-docker/docker.sock'})
    const noDocker = containerStartError(
      new Error('Could not find a working container runtime strategy'),
      DEFAULT_IMAGE,
      ep,
    ) as EvtError
    expect(noDocker.exitCode).toBe(3)
    expect(noDocker.message).toMatch(/Docker does not answer at unix:\/\/\/tmp\/evt-docker\/docker.sock/)
    expect(noDocker.hint).toMatch(/--runtime local/)
    const badImage = containerStartError(new Error('pull access denied for nope'), 'nope:1', ep) as EvtError
    expect(badImage.exitCode).toBe(3)
    expect(badImage.message).toContain('nope:1')
    expect(badImage.message).toContain('unix:///tmp/evt-docker/docker.sock')
    expect(badImage.hint).toMatch(/EVT_IMAGE/)
    // The reaper's pull failure names the reaper and the setting, not the RabbitMQ image.
    const reaper = containerStartError(
      new Error('(HTTP code 404) no such image - testcontainers/ryuk:0.14.0'),
      'nope:1',
      ep,
    ) as EvtError
    expect(reaper.message).toMatch(/ryuk/)
    expect(reaper.message).not.toContain('nope:1')
    expect(reaper.hint).toContain('TESTCONTAINERS_RYUK_DISABLED=true')
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
    // schedulers not pinned: several nodes on one machine would all queue on its first core
    expect(env.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS).toContain('+stbt u')
  })
  it('listens on loopback with its own user and management port', () => {
    const conf = nodeConfig(facts, 'evt', 'pw')
    expect(conf).toContain('listeners.tcp.1 = 127.0.0.1:1')
    expect(conf).toContain('management.tcp.port = 2')
    expect(conf).toContain('management.tcp.ip = 127.0.0.1')
    expect(conf).toContain('default_user = evt')
  })
})

describe('freePort', () => {
  it('hands out ports below the kernel ephemeral range, free to bind, and not always the same one', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    const ports = await Promise.all(Array.from({length: 8}, () => freePort()))
    for (const port of ports) {
      expect(port).toBeLessThan(low)
      expect(port).toBeGreaterThanOrEqual(1024)
      expect(await portInUse(port)).toBe(false)
    }
    expect(new Set(ports).size).toBeGreaterThan(1)
  })
})
