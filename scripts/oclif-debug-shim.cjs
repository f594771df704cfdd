// Bundled in place of the `debug` package inside oclif (scripts/bundle-cli.mjs). DEBUG=oclif:* output works as
// before; without DEBUG nothing would print, and `debug` (with Node's tty module it loads) is ~10 ms of each start.
const silent = () => {}
module.exports = process.env.DEBUG ? require('debug') : () => silent
