#!/usr/bin/env bash
# Time `cachectl warm` (the built-in plan, concurrent) against the seed
# script's way: the same URLs fetched one after another with curl. Both start
# from an empty cache, against `cachectl serve --db-latency 5ms` on a private
# redis-server. One run each; prints both times and the ratio.
#
#   perf/warm/run.sh
#   SEED=5000 LATENCY=5ms CONCURRENCY=8 DEEP=1 perf/warm/run.sh
set -euo pipefail

SEED=${SEED:-5000}
LATENCY=${LATENCY:-5ms}
CONCURRENCY=${CONCURRENCY:-8}
DEEP=${DEEP:-0}
. "$(dirname "$0")/../lib.sh"
redis_and_api

need redis-server redis-cli curl jq
build_cachectl
start_redis "$RPORT"
start_serve "$APORT" "$REDIS" --seed-products "$SEED" --db-latency "$LATENCY"

deep=()
[ "$DEEP" = 1 ] && deep=(--deep)
empty() { redis-cli -p "$RPORT" flushall >/dev/null; } # the script's own private server

empty
start=$(date +%s.%N)
"$work/cachectl" warm --api "$API" --redis "$REDIS" -c "$CONCURRENCY" "${deep[@]}" --json >"$work/warm.json"
end=$(date +%s.%N)
warm_s=$(echo "$end - $start" | bc -l)
jq -r '.results[].url' "$work/warm.json" >"$work/urls.txt"
urls=$(wc -l <"$work/urls.txt")
keys_warm=$(redis-cli -p "$RPORT" dbsize)
misses=$(jq .misses "$work/warm.json")

empty
start=$(date +%s.%N)
while read -r u; do curl -fs -o /dev/null "$u"; done <"$work/urls.txt"
end=$(date +%s.%N)
curl_s=$(echo "$end - $start" | bc -l)
keys_curl=$(redis-cli -p "$RPORT" dbsize)

echo "catalog of $SEED products, simulated db latency $LATENCY per query; $urls URLs from an empty cache"
printf '%-34s %8.3f s  (%d MISS, %d keys in redis)\n' "cachectl warm -c $CONCURRENCY (whole command)" "$warm_s" "$misses" "$keys_warm"
printf '%-34s %8.3f s  (%d keys in redis)\n' "curl, one URL after another" "$curl_s" "$keys_curl"
printf '%-34s %8.1fx\n' "speedup" "$(echo "$curl_s / $warm_s" | bc -l)"
