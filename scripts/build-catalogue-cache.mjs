// Run by `npm run build`: parses the built-in event fixtures once, so `evt events` and `evt publish` need not,
// and keeps faker's English data as JSON for the generators (src/catalogue/faker-locale.ts says why).
import {writeFakerDefinitions} from '../dist/catalogue/faker-locale.js'
import {writeParsedCache} from '../dist/catalogue/parsed-cache.js'

writeParsedCache()
await writeFakerDefinitions()
