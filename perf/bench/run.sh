#!/usr/bin/env bash
# `cachectl bench`'s warm phase beside the hey command-line tool (the engine
# bench used before its own) and wrk, at the same
# concurrency, on a static endpoint (/healthz) and on a cached route
# (/api/categories/) of `cachectl serve` over a private redis-server.
# One run each; prints rps and p50 and the ratios to hey and wrk.
#
#   perf/bench/run.sh
#   REQUESTS=50000 CONCURRENCY=20 perf/bench/run.sh
set -euo pipefail

REQUESTS=${REQUESTS:-20000}
CONCURRENCY=${CONCURRENCY:-10}
WRK_DURATION=${WRK_DURATION:-5s}
. "$(dirname "$0")/../lib.sh"
redis_and_api

need redis-server redis-cli curl jq wrk
build_cachectl
(cd "$root" && GOBIN=$work go install github.com/rakyll/hey@v0.1.5)
start_redis "$RPORT"
start_serve "$APORT" "$REDIS" --seed-products 1000

cat >"$work/endpoints.yaml" <<YAML
- name: static
  url: /healthz
- name: cached
  url: /api/categories/
  clear: [categories:all]
YAML

# Each prints "RPS P50_MS".
run_cachectl() {
	"$work/cachectl" bench --api "$API" --redis "$REDIS" --endpoints "$work/endpoints.yaml" --only "$1" \
		--cold-samples 1 -n "$REQUESTS" -c "$CONCURRENCY" --json |
		jq -r '.endpoints[0].warm | "\(.rps) \(.p50_ms)"'
}
run_hey() {
	"$work/hey" -n "$REQUESTS" -c "$CONCURRENCY" "$1" |
		awk '/Requests\/sec:/{rps=$2} /^ *50%+ in/{p50=$3*1000} END{print rps, p50}'
}
run_wrk() {
	wrk -t 2 -c "$CONCURRENCY" -d "$WRK_DURATION" --latency "$1" |
		awk 'function ms(v){ if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
			/Requests\/sec:/{rps=$2} /^ +50%/{p50=ms($2)} END{print rps, p50}'
}

echo "cachectl serve (seed 1000, no db latency), redis $(redis_version "$RPORT");" \
	"$REQUESTS requests at concurrency $CONCURRENCY (wrk: ${WRK_DURATION}, 2 threads)"
printf '%-8s %-18s %10s %9s %14s %14s\n' target tool rps p50_ms "rps vs hey" "rps vs wrk"
for target in static cached; do
	path=/healthz
	[ "$target" = cached ] && path=/api/categories/
	curl -fs -o /dev/null "$API$path" # primed
	read -r c_rps c_p50 < <(run_cachectl "$target")
	read -r h_rps h_p50 < <(run_hey "$API$path")
	read -r w_rps w_p50 < <(run_wrk "$API$path")
	for row in "cachectl-bench $c_rps $c_p50" "hey $h_rps $h_p50" "wrk $w_rps $w_p50"; do
		set -- $row
		printf '%-8s %-18s %10.0f %9.3f %13.1f%% %13.1f%%\n' "$target" "$1" "$2" "$3" \
			"$(echo "100 * $2 / $h_rps" | bc -l)" "$(echo "100 * $2 / $w_rps" | bc -l)"
	done
done
