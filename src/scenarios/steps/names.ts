/** The code steps a scenario file may `run`; the loader checks names against this list without loading them. */
export const CODE_STEP_NAMES = [
  'retry-backoff',
  'permission-probe',
  'publish-through-kill',
  'topology-check',
  'ledger-start',
  'ledger-stop',
  'ledger-wait',
  'node-fault',
  'rolling-restart',
  'await-quorum',
  'node-probe',
  'queue-probe',
]
