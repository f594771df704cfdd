import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {NODE_ACTIONS, type NodeAction, type NodeFaultResult, runNodeFault} from '../faults/node.js'

export default class Node extends BaseCommand<typeof Node> {
  static override summary = 'Fault injection on a cluster node: stop, start, kill, restart, partition or heal it.'
  static override description =
    "For a cluster started with `evt up --nodes 3`. The node is its number (1..N) or leader-of:<queue> (the node hosting that quorum queue's leader; --vhost, default /). kill is SIGKILL and nothing restarts it; stop is graceful; restart waits until the cluster sees the node running again; partition cuts the node's Erlang distribution traffic (containers: off the cluster network; local nodes: iptables, as root) and heal removes the cut. A fault waits for a scenario run using the broker to finish, so it never lands in the middle of a verdict. See docs/cluster.md."
  static override examples = [
    '<%= config.bin %> node kill leader-of:orders --vhost ecommerce',
    '<%= config.bin %> node start 2',
    '<%= config.bin %> node restart 3',
    '<%= config.bin %> node partition 3 && sleep 15 && <%= config.bin %> node heal 3',
  ]
  static override args = {
    action: Args.string({description: NODE_ACTIONS.join(', '), options: [...NODE_ACTIONS], required: true}),
    node: Args.string({description: 'a node number (1..N), or leader-of:<queue>', required: true}),
  }

  static override flags = {
    'wait-seconds': Flags.integer({
      description: 'how long to wait for a scenario run (or `evt down`) using the broker to finish, then exit 3',
      default: 600,
      min: 0,
    }),
  }

  async run(): Promise<NodeFaultResult> {
    const result = await runNodeFault({
      home: this.stateHome(),
      name: this.brokerName(),
      action: this.args.action as NodeAction,
      node: this.args.node,
      vhost: this.flags.vhost,
      waitMs: this.flags['wait-seconds'] * 1000,
      onWait: (message) => this.notice(message),
    })
    if (!this.jsonEnabled()) {
      const leader = result.queue
        ? result.leaderAfter
          ? `; queue ${result.queue}: leader ${result.leaderBefore} -> ${result.leaderAfter} (${result.leaderSeconds?.toFixed(2)}s)`
          : `; queue ${result.queue} had its leader there`
        : ''
      this.log(`node ${result.index} (${result.node}): ${result.action} done in ${result.seconds.toFixed(2)}s${leader}`)
    }
    return result
  }
}
