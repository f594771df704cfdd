import type {RuntimeKind, StartOptions} from '../../src/broker/types.js'

/**
 * The runtime the broker tests run on: EVT_TEST_RUNTIME=local (default) or container. CI runs the broker-lifecycle,
 * publish, tail and scenario files on both (see .ci/run); EVT_TEST_IMAGE (else EVT_IMAGE, else the default image)
 * is the container image.
 */
export const TEST_RUNTIME: Extract<RuntimeKind, 'local' | 'container'> =
  process.env.EVT_TEST_RUNTIME === 'container' ? 'container' : 'local'

export const TEST_IMAGE: string | undefined = process.env.EVT_TEST_IMAGE || process.env.EVT_IMAGE || undefined

/** startBroker options for a private test broker on the runtime under test. */
export function testBroker(name: string): StartOptions {
  return {runtime: TEST_RUNTIME, name, ...(TEST_RUNTIME === 'container' && TEST_IMAGE ? {image: TEST_IMAGE} : {})}
}

/** `--runtime <runtime under test>` for `evt up` / `evt scenario`. */
export function runtimeArgs(): string[] {
  return ['--runtime', TEST_RUNTIME]
}

/** Environment for a CLI run on the runtime under test (runCli drops EVT_* from the parent's). */
export function runtimeEnv(): Record<string, string> {
  return TEST_RUNTIME === 'container' && TEST_IMAGE ? {EVT_IMAGE: TEST_IMAGE} : {}
}
