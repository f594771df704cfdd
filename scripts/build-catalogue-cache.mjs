// Run by `npm run build`: parses the built-in event fixtures once, so `evt events` and `evt publish` need not.
import {writeParsedCache} from '../dist/catalogue/parsed-cache.js'

writeParsedCache()
