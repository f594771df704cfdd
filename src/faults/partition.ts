import {execFile} from 'node:child_process'
import type {LocalNodeFacts} from '../broker/types.js'
import {UnreachableError} from '../errors.js'

/**
 * A network partition of one local cluster member, by packet filtering on the loopback interface
 * (iptables, needs root). Each member listens for Erlang distribution on 127.0.0.1:<its dist port> and
 * connects to its peers from its own source address 127.0.0.<i+1> (see distSourceIp). Cutting node X
 * drops, in both directions:
 *   - peers' connections to X: tcp to 127.0.0.1 dport <X's dist port> from a peer's source address, and
 *     X's replies (sport <X's dist port>) to them;
 *   - X's connections to peers: tcp from X's source address to a peer's dist port, and their replies.
 * AMQP, management, epmd and every other cluster's traffic are untouched; CLI calls at X from this
 * machine still work. After net_ticktime (5 s) each side declares the other down; with pause_minority
 * the cut-off node pauses itself (stops serving AMQP) until it sees the majority again. Heal removes the
 * rules; nothing else is changed.
 */

const CHAIN_COMMENT = 'evt-partition'

export function partitionRules(node: LocalNodeFacts, peers: LocalNodeFacts[]): string[][] {
  const tag = `${CHAIN_COMMENT}:${node.nodeName}`
  const src = node.distSourceIp
  if (!src)
    throw new UnreachableError(
      `node ${node.nodeName} was not started with its own source address`,
      'Start the cluster again with this version of evt',
    )
  const rules: string[][] = []
  const rule = (from: string, to: string, port: ['--dport' | '--sport', number]) => [
    '-p',
    'tcp',
    '-s',
    from,
    '-d',
    to,
    port[0],
    String(port[1]),
    '-m',
    'comment',
    '--comment',
    tag,
    '-j',
    'DROP',
  ]
  for (const p of peers) {
    if (!p.distSourceIp) continue
    // peer -> X's listener, and X's replies
    rules.push(rule(p.distSourceIp, '127.0.0.1', ['--dport', node.ports.dist]))
    rules.push(rule('127.0.0.1', p.distSourceIp, ['--sport', node.ports.dist]))
    // X -> peer's listener, and the peer's replies
    rules.push(rule(src, '127.0.0.1', ['--dport', p.ports.dist]))
    rules.push(rule('127.0.0.1', src, ['--sport', p.ports.dist]))
  }
  return rules
}

function iptables(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('iptables', ['-w', '5', ...args], {timeout: 10_000}, (err, stdout, stderr) =>
      err ? reject(new Error(stderr.trim() || err.message)) : resolve(stdout),
    )
  })
}

/** Whether packet filtering is available here (iptables, as root). */
export async function canPartition(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false
  try {
    await iptables(['-S', 'INPUT'])
    return true
  } catch {
    return false
  }
}

/** Cut node's Erlang distribution traffic to and from its peers (both directions, OUTPUT chain on lo). */
export async function cutNode(node: LocalNodeFacts, peers: LocalNodeFacts[]): Promise<string[][]> {
  if (!(await canPartition())) {
    throw new UnreachableError(
      'a partition needs packet filtering: iptables as root',
      'Run evt as root (CI containers usually are), or use node stop/kill instead',
    )
  }
  const rules = partitionRules(node, peers)
  for (const r of rules) await iptables(['-I', 'OUTPUT', '-o', 'lo', ...r])
  return rules
}

/** Remove every rule evt added for this node (or, without a node name, for any evt partition). */
export async function healNode(nodeName?: string): Promise<number> {
  if (!(await canPartition())) return 0
  const listing = await iptables(['-S', 'OUTPUT'])
  let removed = 0
  for (const line of listing.split('\n')) {
    const m = /--comment "?([^" ]+)"?/.exec(line)
    if (!m || !line.startsWith('-A OUTPUT')) continue
    const comment = m[1]
    if (!comment.startsWith(`${CHAIN_COMMENT}:`)) continue
    if (nodeName && comment !== `${CHAIN_COMMENT}:${nodeName}`) continue
    const spec = line
      .replace(/^-A OUTPUT /, '')
      .split(' ')
      .map((w) => w.replace(/^"|"$/g, ''))
    await iptables(['-D', 'OUTPUT', ...spec]).catch(() => undefined)
    removed++
  }
  return removed
}

/** The argv that removes one rule: what the watchdog runs should evt die while a node is cut off. */
export function healArgv(rule: string[]): string[] {
  return ['iptables', '-w', '5', '-D', 'OUTPUT', '-o', 'lo', ...rule]
}
