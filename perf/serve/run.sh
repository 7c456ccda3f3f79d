#!/usr/bin/env bash
# Measures `cachectl serve` on this machine and prints the figures:
#   1. warm-hit throughput and p50/p99 of a cached route versus a bare Go
#      handler that does one Redis GET of the same bytes (the ceiling for any
#      handler that must ask Redis), in one run, side by side;
#   2. cold versus warm latency of the product list;
#   3. a product update's latency with 1,000,000 unrelated keys in Redis
#      versus an empty Redis.
# It starts its own redis-server on a free port and never touches another.
# Usage: perf/serve/run.sh [DURATION (default 10s)] [CONNECTIONS (default 50)]
set -euo pipefail

DURATION=${1:-10s}
CONNS=${2:-50}
THREADS=2
. "$(dirname "$0")/../lib.sh"

need wrk redis-server redis-cli curl

echo "building..." >&2
build_cachectl
go build -o "$work/bare" "$root/perf/serve/bare"

RPORT=$(free_port)
start_redis "$RPORT" --enable-debug-command local
R="redis-cli -p $RPORT"

SPORT=$(free_port)
CACHECTL_ADMIN_TOKEN=perf start_serve "$SPORT" "redis://127.0.0.1:$RPORT/0"
API="http://127.0.0.1:$SPORT"

ROUTE=/api/products/1/
curl -fs "$API$ROUTE" >/dev/null # MISS: fills ecommerce:1:product:1
BPORT=$(free_port)
"$work/bare" -redis "127.0.0.1:$RPORT" -key ecommerce:1:product:1 -listen "127.0.0.1:$BPORT" &
pids+=($!)
BARE="http://127.0.0.1:$BPORT"
wait_http "$BARE/"
cmp <(curl -fs "$API$ROUTE") <(curl -fs "$BARE/") || { echo "perf: the two handlers serve different bytes" >&2; exit 1; }

# wrk prints "Requests/sec: N" and, with --latency, "50% 1.23ms" lines.
bench() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$1")
	local rps p50 p99 errs
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1=="50%" {print $2}' <<<"$out")
	p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	errs=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	printf '%-34s %12s %10s %10s %8s\n' "$2" "$rps" "$p50" "$p99" "${errs:-0}"
	echo "$rps"  >"$work/rps.$3"
}

echo
echo "== 1. warm hits: wrk -t$THREADS -c$CONNS -d$DURATION, same bytes ($(curl -fs "$API$ROUTE" | wc -c) B)"
printf '%-34s %12s %10s %10s %8s\n' handler req/s p50 p99 non-2xx
bench "$BARE/" "bare Go handler, one Redis GET" bare
bench "$API$ROUTE" "cachectl serve $ROUTE (HIT)" serve
echo "X-Cache of the route: $(curl -fs -D - -o /dev/null "$API$ROUTE" | awk -F': ' 'tolower($1)=="x-cache" {print $2}' | tr -d '\r')"
awk -v s="$(cat "$work/rps.serve")" -v b="$(cat "$work/rps.bare")" 'BEGIN { printf "ratio serve/bare: %.2fx (target >= 0.85x)\n", s/b }'

# median of curl's time_total, in ms, over N requests; $2 runs before each.
median_ms() {
	local url=$1 before=$2 n=${3:-25} method=${4:-GET} body=${5:-}
	for _ in $(seq "$n"); do
		eval "$before"
		if [ "$method" = GET ]; then
			curl -fs -o /dev/null -w '%{time_total}\n' "$url"
		else
			curl -fs -o /dev/null -w '%{time_total}\n' -X "$method" -H 'Authorization: Bearer perf' -d "$body" "$url"
		fi
	done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]*1000}'
}

LIST="$API/api/products/?category=2&ordering=-popularity&page_size=20"
echo
echo "== 2. product list, median of 25 curl requests"
cold=$(median_ms "$LIST" "$R --scan --pattern 'ecommerce:1:products:list:*' | xargs -r $R unlink >/dev/null")
warm=$(median_ms "$LIST" ":")
echo "cold (key deleted before each): ${cold} ms   warm (HIT): ${warm} ms"

echo
echo "== 3. product update (PATCH /api/products/2/), median of 25"
warmup="curl -fs '$API/api/products/2/' '$LIST' '$API/api/products/top_sellers/' >/dev/null"
empty=$(median_ms "$API/api/products/2/" "$warmup" 25 PATCH '{"popularity":7}')
$R debug populate 1000000 unrelated >/dev/null || { echo "perf: DEBUG POPULATE refused" >&2; exit 1; }
echo "redis now holds $($R dbsize) keys"
full=$(median_ms "$API/api/products/2/" "$warmup" 25 PATCH '{"popularity":8}')
awk -v e="$empty" -v f="$full" 'BEGIN { printf "empty redis: %s ms   1,000,000 unrelated keys: %s ms   ratio %.2fx (target within 2x)\n", e, f, f/e }'
