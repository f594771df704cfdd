#!/usr/bin/env bash
# Keep one CPU core busy until killed (what a loaded CI runner feels like). Used by scripts/flake-check.sh
# and scripts/scenario-soak.sh:  scripts/cpu-load.sh & load=$!; ...; kill $load
# Optional argument: seconds to run (default: until killed).
set -u
seconds="${1:-0}"
exec node -e '
  const end = Number(process.argv[1]) > 0 ? Date.now() + Number(process.argv[1]) * 1000 : Infinity
  process.on("SIGTERM", () => process.exit(0))
  const spin = () => {
    const slice = Date.now() + 200
    while (Date.now() < slice) Math.sqrt(Math.random())
    if (Date.now() < end) setImmediate(spin)
  }
  spin()
' "$seconds"
