#!/usr/bin/env node
import {execute, settings} from '@oclif/core'

// Installed evt runs its compiled code even under NODE_ENV=test or development (common in CI),
// where oclif would otherwise look for TypeScript sources and warn.
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
