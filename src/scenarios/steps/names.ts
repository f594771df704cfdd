/** The code steps that need a cluster (`steps/cluster.ts`): a scenario that runs one requires a cluster. */
export const CLUSTER_STEP_NAMES = [
  'ledger-start',
  'ledger-stop',
  'ledger-wait',
  'node-fault',
  'rolling-restart',
  'await-quorum',
  'node-probe',
  'queue-probe',
]

/** The code steps a scenario file may `run`; the loader checks names against this list without loading them. */
export const CODE_STEP_NAMES = [
  'retry-backoff',
  'permission-probe',
  'publish-through-kill',
  'topology-check',
  ...CLUSTER_STEP_NAMES,
]
