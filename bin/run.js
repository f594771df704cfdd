#!/usr/bin/env node
// evt needs Node 20.19 (package.json engines); say so in one line instead of failing somewhere inside.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(
    `Error: evt needs Node.js 20.19 or later; this is ${process.versions.node}. Install a newer Node.js.\n`,
  )
  process.exit(2)
}

// oclif checks Node against its own (older) engines range when it is imported, loading semver to do it: about 80 ms
// of every command's start-up, for a check the lines above already make.
const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
const {execute, settings} = await import('../dist/cli/cli.js')
if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning

// Installed evt runs its compiled code even under NODE_ENV=test or development (common in CI),
// where oclif would otherwise look for TypeScript sources and warn.
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
