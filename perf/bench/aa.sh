#!/usr/bin/env bash
# Does `cachectl bench --baseline` cry wolf, and does it catch a real
# regression? Against `cachectl serve --db-latency` over a private
# redis-server:
#
#   1. a baseline: bench --repeat R --json;
#   2. A/A: RUNS comparisons of the unchanged server with --baseline; each
#      that flags a regression is a false alarm (the target: at most 1 in 20);
#   3. a regression: serve restarted with --hit-latency set to SLOWDOWN of
#      the baseline's warm path (the median over the repeats of the warm p50
#      of the cold/warm pairs, one request at a time): every HIT is answered
#      that much later, the cold path is not slowed. Then RUNS comparisons
#      again; each that does not flag it is a miss (the target: at most 1 in 20).
#
# The load phase is bench's default closed loop at -c 10 (RATE=R: an open
# loop at R/s). The slowdown is CPU spent per HIT, so under the closed loop,
# which keeps both CPUs busy, the p50 under load grows by more than 25%; the
# speedup (cold p50 / warm p50 of the pairs) shrinks by about 25%. Prints one
# line per comparison (the verdicts, the ratios of the p50 under load, the
# speedup and the p95, with their 95% intervals) and the counts.
#
# A fixed baseline is only as good as the machine is steady: on a shared
# machine whose load changes between the baseline and the comparisons, the
# warm path moves by more than 25% on its own, and the script then says so
# in its counts.
#
#   perf/bench/aa.sh
#   RUNS=20 REPEAT=3 REQUESTS=300 PAIRS=100 SLOWDOWN=0.25 perf/bench/aa.sh
set -euo pipefail

RUNS=${RUNS:-20}
REPEAT=${REPEAT:-3}
REQUESTS=${REQUESTS:-300}
RATE=${RATE:-0}
PAIRS=${PAIRS:-100}
DB_LATENCY=${DB_LATENCY:-2ms}
SLOWDOWN=${SLOWDOWN:-0.25}
TOLERANCE=${TOLERANCE:-20}
. "$(dirname "$0")/../lib.sh"
redis_and_api

need redis-server redis-cli curl jq bc
build_cachectl
start_redis "$RPORT"

cat >"$work/endpoints.yaml" <<YAML
- name: product
  url: /api/products/7/
  clear: [product:7]
YAML

serve() {
	start_serve "$APORT" "$REDIS" --seed-products 1000 --db-latency "$DB_LATENCY" "$@"
	serve_pid=${pids[-1]}
}
stop_serve() { kill "$serve_pid" && wait "$serve_pid" 2>/dev/null || true; }

# bench ARG...: one run, its JSON report on stdout; exit 1 (a breached gate) is not an error here.
load=(--rate "$RATE")
[ "$RATE" = 0 ] && load=(-c 10)
bench() {
	"$work/cachectl" bench --api "$API" --redis "$REDIS" --endpoints "$work/endpoints.yaml" \
		--cold-samples "$PAIRS" -n "$REQUESTS" "${load[@]}" --repeat "$REPEAT" --json "$@" || [ $? -eq 1 ]
}

# compare NAME I: one comparison with the baseline; prints its line and
# "flagged" or "clean" as the last word.
compare() {
	bench --baseline "$work/base.json" --max-regression "$TOLERANCE" >"$work/run.json"
	jq -r --arg name "$1" --arg i "$2" '
		def fig($f): (.comparison.comparisons[] | select(.figure == $f));
		def iv($c): "\($c.ratio * 1000 | round / 1000)x [\($c.low * 1000 | round / 1000)–\($c.high * 1000 | round / 1000)] \($c.verdict)";
		([.thresholds[] | select((.name | startswith("regression ")) and (.ok | not)) | .name] ) as $breached |
		"\($name) \($i): p50 \(.endpoints[0].warm.p50_ms * 1000 | round / 1000) ms; p50 \(iv(fig("p50_ms"))); speedup \(iv(fig("speedup"))); p95 \(iv(fig("p95_ms"))) (reported)" +
		(if ($breached | length) > 0 then "; breached: \($breached | join(", ")) flagged" else "; clean" end)' "$work/run.json"
}

serve
warm_path() { jq '[.endpoints[0].repeats[].warm_serial.p50_ms] | sort | .[length / 2 | floor]' "$work/base.json"; }
bench >"$work/base.json"
p50=$(warm_path)
echo "serve --db-latency $DB_LATENCY (seed 1000), redis $(redis_version "$RPORT"), $(nproc) CPUs;" \
	"bench: $PAIRS pairs, $REQUESTS requests ${load[*]}, --repeat $REPEAT, --max-regression $TOLERANCE"
echo "baseline: warm path (pairs) p50 per repeat $(jq -c '[.endpoints[0].repeats[].warm_serial.p50_ms]' "$work/base.json") ms," \
	"under load $(jq -c '[.endpoints[0].repeats[].warm.p50_ms]' "$work/base.json") ms," \
	"speedup per repeat $(jq -c '[.endpoints[0].repeats[].speedup | . * 100 | round / 100]' "$work/base.json")"

aa=0
for i in $(seq "$RUNS"); do
	line=$(compare A/A "$i")
	echo "$line"
	[ "${line##* }" = flagged ] && aa=$((aa + 1))
done

stop_serve
hit=$(echo "$p50 * $SLOWDOWN" | bc -l)
hit_us=$(printf '%.0f' "$(echo "$hit * 1000" | bc -l)")
serve --hit-latency "${hit_us}us"
echo "regression: serve --hit-latency ${hit_us}us, $(echo "$SLOWDOWN * 100" | bc)% of the baseline's warm path p50 of $p50 ms"
caught=0
for i in $(seq "$RUNS"); do
	line=$(compare slow "$i")
	echo "$line"
	[ "${line##* }" = flagged ] && caught=$((caught + 1))
done

echo "A/A: $((RUNS - aa)) of $RUNS said no regression (target: at least $((RUNS * 19 / 20)))"
echo "regression of $(echo "$SLOWDOWN * 100" | bc)%: $caught of $RUNS flagged it (target: at least $((RUNS * 19 / 20)))"
