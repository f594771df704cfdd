/**
 * The entry of the CLI bundle (`npm run build` writes dist/cli/ with scripts/bundle-cli.mjs): bin/run.js takes
 * oclif from here, so oclif and every command share one bundled copy of @oclif/core. Loading it as one file
 * instead of some seventy is about 50 ms of every command's start.
 */
export {execute, settings} from '@oclif/core'
