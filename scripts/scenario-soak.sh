#!/usr/bin/env bash
# The scenario soak: the whole built-in suite (`evt scenario --all`) N times in a row (default 20) while
# another process keeps one core busy. On a healthy broker every run must pass: any FAIL is a false verdict
# (a timing assumption in a scenario), and the script lists the checks that gave one.
#
#   npm run build
#   evt up --name soak                      # or RABBITMQ_URL=... for a broker of your own
#   scripts/scenario-soak.sh 20 --name soak
#
# Extra arguments go to `evt scenario`. Reports land in test-results/soak-<n>.{json,xml}. Exit 0 when every
# run passed.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
shift || true
mkdir -p test-results
scripts/cpu-load.sh &
load=$!
trap 'kill "$load" 2>/dev/null' EXIT
false_verdicts=0
failed_runs=0
for run in $(seq 1 "$runs"); do
  started=$(date +%s.%N)
  ./bin/run.js scenario --all --json --junit "test-results/soak-$run.xml" "$@" >"test-results/soak-$run.json" 2>"test-results/soak-$run.err"
  code=$?
  seconds=$(node -e 'console.log((Number(process.argv[2]) - Number(process.argv[1])).toFixed(1))' "$started" "$(date +%s.%N)")
  bad=$(node -e '
    let r
    try { r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")) } catch { console.log("?"); process.exit(0) }
    const out = []
    for (const s of r.scenarios ?? []) {
      for (const c of s.checks) if (c.status === "fail") out.push(`${s.name}: ${c.check} (expected ${c.expected}, observed ${c.observed})`)
      if (s.status === "errored") out.push(`${s.name}: ERROR ${s.reason}`)
    }
    console.log(out.join("\n"))
  ' "test-results/soak-$run.json")
  if [ "$code" -eq 0 ]; then
    echo "run $run: passed (${seconds} s)"
  else
    failed_runs=$((failed_runs + 1))
    n=$(printf '%s\n' "$bad" | grep -c . || true)
    false_verdicts=$((false_verdicts + n))
    echo "run $run: exit $code (${seconds} s), $n false verdict(s):"
    printf '%s\n' "$bad" | sed 's/^/  /'
    [ "$n" -eq 0 ] && sed 's/^/  /' "test-results/soak-$run.err" | tail -5
  fi
done
echo "$((runs - failed_runs)) of $runs runs passed; $false_verdicts false verdict(s)"
[ "$failed_runs" -eq 0 ]
