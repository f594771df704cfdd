import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const RUN_JS = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Run the built CLI as a user would (a child process: real exit codes, real stdout/stderr, no TTY).
 * `npm test` builds first; the environment is cleaned of broker settings unless given.
 */
export function runCli(
  args: string[],
  options: {env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string} = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {...process.env}
    for (const key of Object.keys(env)) {
      if (key.startsWith('RABBITMQ_') || key.startsWith('EVT_')) delete env[key]
    }
    Object.assign(env, {NO_COLOR: '1'}, options.env)
    const child = spawn(process.execPath, [RUN_JS, ...args], {cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Start the CLI and hand back the child, for tests that signal it mid-run. */
export function spawnCli(args: string[], options: {env?: NodeJS.ProcessEnv; cwd?: string} = {}) {
  const env: NodeJS.ProcessEnv = {...process.env}
  for (const key of Object.keys(env)) {
    if (key.startsWith('RABBITMQ_') || key.startsWith('EVT_')) delete env[key]
  }
  Object.assign(env, {NO_COLOR: '1'}, options.env)
  return spawn(process.execPath, [RUN_JS, ...args], {cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
}
