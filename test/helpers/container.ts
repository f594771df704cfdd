import {DEFAULT_IMAGE} from '../../src/broker/container.js'
import {dockerAnswers, dockerEndpoint, imagePresent, listByLabels} from '../../src/broker/docker-api.js'
import {waitFor} from '../../src/util/time.js'
import {TEST_IMAGE} from './runtime.js'

/** The image the container tests run: EVT_TEST_IMAGE, else EVT_IMAGE, else the official management image. */
export const CONTAINER_IMAGE = TEST_IMAGE ?? DEFAULT_IMAGE

/**
 * Why the container tests cannot run here (no engine, no image), or undefined when they can. A test that cannot
 * run is reported as skipped with this reason in its title, never as passed.
 */
export async function containerSkipReason(): Promise<string | undefined> {
  const ep = dockerEndpoint()
  if (!(await dockerAnswers())) return `no Docker engine answers at ${ep.address}`
  if (!(await imagePresent(CONTAINER_IMAGE).catch(() => false)))
    return `image ${CONTAINER_IMAGE} is not in Docker at ${ep.address}`
  return undefined
}

/** Containers carrying these labels (running or not). */
export async function containersLabelled(labels: Record<string, string>): Promise<string[]> {
  return (await listByLabels(labels)).map((c) => c.Id)
}

/** Wait (bounded) until a container with these labels exists; resolves with its id or undefined. */
export async function waitForContainer(
  labels: Record<string, string>,
  timeoutMs = 60_000,
): Promise<string | undefined> {
  let id: string | undefined
  await waitFor(
    async () => {
      id = (await containersLabelled(labels))[0]
      return id !== undefined
    },
    {timeoutMs, intervalMs: 50},
  )
  return id
}

/** Wait (bounded) until no container carries these labels; resolves with what is left. */
export async function waitForNoContainer(labels: Record<string, string>, timeoutMs = 15_000): Promise<string[]> {
  let left: string[] = []
  await waitFor(
    async () => {
      left = await containersLabelled(labels)
      return left.length === 0
    },
    {timeoutMs, intervalMs: 100},
  )
  return left
}
