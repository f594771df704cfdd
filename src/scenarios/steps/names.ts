/** The code steps a scenario file may `run`; the loader checks names against this list without loading them. */
export const CODE_STEP_NAMES = [
  'rpc-roundtrip',
  'retry-backoff',
  'permission-probe',
  'publish-through-kill',
  'topology-check',
]
