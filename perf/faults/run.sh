#!/usr/bin/env bash
# Runs the clear's fault scenarios many times and tallies the outcomes:
#   - a failover behind one endpoint (the replica promoted part way through,
#     new connections sent to it; the old primary up, killed or demoted);
#   - a throttled slot migration during a cluster clear, to an existing
#     master and to one added for it.
# A run fails when the clear said complete with matching keys left.
#
#   perf/faults/run.sh        # 10 runs of each scenario
#   RUNS=20 perf/faults/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-10}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

CACHECTL_FAULT_RUNS=$runs go test -count=1 -timeout 30m ./keyspace \
  -run 'TestClearFailoverBehindOneEndpoint|TestClearDuringSlotMigration' -v >"$log" 2>&1 || true

# Each run logs: "run N: ... complete=BOOL passes=P ...; left ..."
awk -v runs="$runs" '
  /^=== RUN .*\// { split($3, a, "/"); scenario = a[1] "/" a[2] }
  / run [0-9]+: / {
    n[scenario]++
    complete = ($0 ~ /complete=true/)
    match($0, /passes=[0-9]+/); passes = substr($0, RSTART + 7, RLENGTH - 7)
    left = $0; sub(/.*left( on the new primary:)? /, "", left); split(left, l, " "); left = l[1] + 0
    if (complete && left == 0) ok[scenario]++
    else if (!complete) honest[scenario]++
    else wrong[scenario]++
    p[scenario] = p[scenario] " " passes
  }
  END {
    for (s in n) printf "%-62s %5d %9d %11d %6d  %s\n", s, n[s], ok[s], honest[s], wrong[s], p[s]
  }' "$log" | sort | { printf "%-62s %5s %9s %11s %6s  %s\n" scenario runs complete incomplete WRONG "passes per run"; cat; }

if grep -q -- '--- FAIL' "$log"; then
  echo; echo "failures:"; grep -E -- '--- FAIL|faults_test.go:[0-9]+: (complete,|migration|re-run)' "$log" || true
  exit 1
fi
