// Run by `npm run build`, after tsc: bundles the CLI (bin/run.js's oclif, every command and hook, and the src/
// modules they use) into dist/cli/ with esbuild, code-split so that what a command does not use is not loaded.
// @oclif/core is bundled (one file instead of some seventy: about 50 ms of every start); the other packages stay in
// node_modules, loaded when a command first needs them. dist/ (tsc) stays the library and the watchdog.
import {readdirSync, readFileSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const bundled = new Set(['@oclif/core'])
const packages = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})].filter(
  (name) => !bundled.has(name),
)
// Topics are subfolders of src/commands: every level is bundled.
const commands = readdirSync(join(root, 'src', 'commands'), {recursive: true})
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(root, 'src', 'commands', f))
const outdir = join(root, 'dist', 'cli')
// oclif's logger loads `debug` when it is imported: the shim loads it only when DEBUG is set.
const oclifDebugOnDemand = {
  name: 'oclif-debug-on-demand',
  setup(b) {
    b.onResolve({filter: /^debug$/}, (args) =>
      args.importer.includes(`${join('node_modules', '@oclif', 'core')}`)
        ? {path: join(root, 'scripts', 'oclif-debug-shim.cjs')}
        : undefined,
    )
  },
}
rmSync(outdir, {recursive: true, force: true})
await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'src', 'cli.ts'), join(root, 'src', 'hooks', 'command-not-found.ts'), ...commands],
  outdir,
  outbase: join(root, 'src'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Packages imported by name stay outside, and so do the ones only oclif's TypeScript support asks for.
  external: [...packages.flatMap((name) => [name, `${name}/*`]), 'typescript', 'ts-node'],
  // oclif is CommonJS: its require() of Node's own modules needs a require in an ES module.
  banner: {
    js: "import {createRequire as __evtCreateRequire} from 'node:module';const require = __evtCreateRequire(import.meta.url);",
  },
  plugins: [oclifDebugOnDemand],
  logLevel: 'warning',
})
