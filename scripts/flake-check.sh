#!/usr/bin/env bash
# The flake check: the integration suite N times in a row (default 5) while another process keeps one core busy.
# Any failed round is a flaky test to fix. Build first (`npm run build`); results in test-results/flake-*.json.
#   scripts/flake-check.sh [rounds]
set -uo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
mkdir -p test-results
scripts/cpu-load.sh &
load=$!
trap 'kill "$load" 2>/dev/null' EXIT
failed=0
for round in $(seq 1 "$rounds"); do
  started=$(date +%s)
  if npx vitest run --project integration --reporter=dot --reporter=json --outputFile.json="test-results/flake-$round.json" >"test-results/flake-$round.log" 2>&1; then
    verdict=passed
  else
    verdict=FAILED
    failed=$((failed + 1))
  fi
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
    const bad = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === "failed").map((a) => `  ${f.name.replace(process.cwd() + "/", "")}: ${a.fullName}`))
    console.log(`round ${process.argv[2]}: ${process.argv[3]} (${r.numPassedTests} passed, ${r.numFailedTests} failed, ${process.argv[4]} s)`)
    if (bad.length) console.log(bad.join("\n"))
  ' "test-results/flake-$round.json" "$round" "$verdict" "$(( $(date +%s) - started ))" 2>/dev/null || echo "round $round: $verdict (no report; see test-results/flake-$round.log)"
done
echo "$((rounds - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
