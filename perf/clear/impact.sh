#!/usr/bin/env bash
# Does `clear --max-impact` keep its promise? On one private redis-server
# loaded with MATCHING keys in the products group (and OTHER keys of other
# groups and sessions), a side probe GETs every millisecond (clearperf probe)
# while `cachectl clear --products --yes` runs, first at the defaults, then,
# after a reload, with --max-impact BUDGET. The probe's idle p99 is measured
# before each run. Prints the idle p99, each run's probe p99 and duration,
# the added p99 (run p99 - idle p99) and the speed of the paced run as a
# share of the default's; medians over RUNS runs. Targets (issue 17): added
# p99 at most BUDGET, speed at least 40% of the default.
#
#   perf/clear/impact.sh                      # 1,000,000 products + 100,000 others, 1 ms, 3 runs
#   MATCHING=200000 RUNS=1 perf/clear/impact.sh
set -euo pipefail

MATCHING=${MATCHING:-1000000}
OTHER=${OTHER:-100000}
BUDGET=${BUDGET:-1ms}
RUNS=${RUNS:-3}
IDLE_S=${IDLE_S:-2}
. "$(dirname "$0")/../lib.sh"
PORT=${PORT:-$(free_port)}
ADDR=127.0.0.1:$PORT
TOTAL=$((MATCHING + OTHER))

need redis-server redis-cli
build_cachectl
(cd "$root" && go build -o "$work/clearperf" ./perf/clear)
start_redis "$PORT"
echo "redis $(redis_version "$PORT") on $ADDR; $MATCHING products keys + $OTHER others," \
	"budget $BUDGET, $RUNS runs" >&2

# probe_for SECONDS OUT: the side probe alone for SECONDS, its p50 p99 max in OUT.
probe_for() {
	"$work/clearperf" probe "$ADDR" "$2" &
	local p=$!
	sleep "$1"
	kill -TERM "$p"
	wait "$p" || true
}

# run_one NAME ARG...: reload, idle probe, then the clear with the probe on.
run_one() {
	local name=$1
	shift
	redis-cli -p "$PORT" flushall >/dev/null # the script's own private server
	"$work/clearperf" load "$ADDR" "$TOTAL" "$MATCHING"
	probe_for "$IDLE_S" "$work/idle"
	"$work/clearperf" probe "$ADDR" "$work/probe" &
	local p=$! start end
	sleep 0.3
	start=$(date +%s.%N)
	"$work/cachectl" clear --redis "redis://$ADDR/0" --products --yes --json "$@" >"$work/$name.json"
	end=$(date +%s.%N)
	kill -TERM "$p"
	wait "$p" || true
	local left
	left=$(redis-cli -p "$PORT" dbsize)
	[ "$left" -eq "$OTHER" ] || { echo "perf: $name left $left keys, want $OTHER" >&2; exit 1; }
	read -r _ idle99 _ <"$work/idle"
	read -r _ p99 _ <"$work/probe"
	secs=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
	own=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1])).get("impact"); print("-" if not i else "%.2f/%.2f/%d/%d" % (i["idle_p99_ms"], i["observed_p99_ms"], i["adjustments"], i["slowest"]["batch"]))' "$work/$name.json")
	echo "$name $idle99 $p99 $secs $own" >>"$work/results"
	echo "run $name: idle p99 ${idle99}ms, p99 ${p99}ms, ${secs}s (own probe idle/observed/adjustments/smallest batch: $own)" >&2
}

for _ in $(seq "$RUNS"); do
	run_one default
	run_one impact --max-impact "$BUDGET"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v a="$1" -v c="$2" '$1==a {print $c}' "$work/results" | median; }
added() { awk -v a="$1" '$1==a {print $3 - $2}' "$work/results" | median; }
d_idle=$(col default 2) d_p99=$(col default 3) d_s=$(col default 4) d_add=$(added default)
i_idle=$(col impact 2) i_p99=$(col impact 3) i_s=$(col impact 4) i_add=$(added impact)
budget_ms=$(awk -v b="$BUDGET" 'BEGIN { v=b+0; if (b ~ /us$|µs$/) v/=1000; else if (b ~ /[0-9]s$/ && b !~ /ms$/) v*=1000; print v }')
printf '\n| run | idle p99 (ms) | p99 during (ms) | added p99 (ms) | duration (s) | keys/s |\n|---|---|---|---|---|---|\n'
for r in default impact; do
	awk -v r="$r" -v i="$(col "$r" 2)" -v p="$(col "$r" 3)" -v a="$(added "$r")" -v s="$(col "$r" 4)" -v n="$MATCHING" \
		'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.2f | %.0f |\n", r, i, p, a, s, n / s }'
done
awk -v a="$i_add" -v b="$budget_ms" -v ds="$d_s" -v is="$i_s" -v da="$d_add" 'BEGIN {
	ratio = ds / is
	printf "\nmax-impact %s ms: added p99 %.2f ms (default %.2f ms), speed %.0f%% of the default\n", b, a, da, 100 * ratio
	printf "targets: added p99 <= %s ms: %s; speed >= 40%%: %s\n", b, (a <= b ? "met" : "MISSED"), (ratio >= 0.4 ? "met" : "MISSED")
}'
: "$d_idle $d_p99 $i_idle $i_p99" # medians shown in the table
