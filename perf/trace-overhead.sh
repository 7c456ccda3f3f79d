#!/usr/bin/env bash
# What observing a request costs. Against `cachectl serve` on a private
# redis-server, N GETs of one cached URL (HITs) are timed twice: plainly
# (`cachectl warm --urls`, one at a time) and each inside an observation
# window (`cachectl trace`, MONITOR). Prints the request's latency without
# and with observation (median, p99), the wall time per traced request
# (the guards included), and Redis CPU (used_cpu_user + used_cpu_sys) per
# request in each run.
#
#   perf/trace-overhead.sh
#   N=500 URL=/api/products/?category=2 perf/trace-overhead.sh
set -euo pipefail

N=${N:-200}
URL=${URL:-/api/products/3/}
. "$(dirname "$0")/lib.sh"
RPORT=${RPORT:-$(free_port)}
SPORT=${SPORT:-$(free_port)}

need redis-server redis-cli curl jq
build_cachectl
start_redis "$RPORT"
start_serve "$SPORT" "redis://127.0.0.1:$RPORT/0" --seed-products 200
api=http://127.0.0.1:$SPORT
redis=redis://127.0.0.1:$RPORT/0
curl -fs "$api$URL" >/dev/null # cached: every timed request is a HIT

cpu() { redis-cli -p "$RPORT" info cpu | awk -F: '/^used_cpu_(user|sys):/{s+=$2} END{printf "%.6f", s}'; }
# stats FILE: "median p99" of the numbers in FILE, in ms.
stats() { sort -n "$1" | awk '{v[NR]=$1} END{m=v[int((NR+1)/2)]; p=v[int(NR*0.99+0.999)]; printf "%.3f %.3f\n", m, p}'; }

for _ in $(seq "$N"); do echo "$URL"; done >"$work/urls.txt"

# run NAME CMD...: runs CMD (which prints one latency_ms a line) and prints a
# row: median, p99, Redis CPU per request, wall time per request.
row() {
	local name=$1 c0 c1 t0 t1 n
	shift
	c0=$(cpu)
	t0=$(date +%s.%N)
	"$@" >"$work/lat.txt"
	t1=$(date +%s.%N)
	c1=$(cpu)
	n=$(wc -l <"$work/lat.txt")
	[ "$n" -eq "$N" ] || { echo "perf: $name made $n requests, not $N" >&2; exit 1; }
	read -r med p99 < <(stats "$work/lat.txt")
	printf '%-28s %7.3f ms %7.3f ms %13.1f µs %11.1f ms\n' "$name" "$med" "$p99" \
		"$(echo "($c1 - $c0) * 1000000 / $N" | bc -l)" "$(echo "($t1 - $t0) * 1000 / $N" | bc -l)"
}
plain() {
	"$work/cachectl" warm --api "$api" --redis "$redis" --urls "$work/urls.txt" -c 1 --verify=false --observe=false --json |
		jq -r '.results[].latency_ms'
}
# traced GUARD: every URL inside a window; checks that each was seen as a HIT by MONITOR.
traced() {
	# shellcheck disable=SC2046
	"$work/cachectl" trace --api "$api" --redis "$redis" --guard "$1" --json $(cat "$work/urls.txt") >"$work/trace.json"
	jq -e '.mechanism == "monitor" and all(.urls[]; .cache == "HIT")' "$work/trace.json" >/dev/null ||
		{ echo "perf: trace did not see $N HITs by MONITOR" >&2; exit 1; }
	jq -r '.urls[].latency_ms' "$work/trace.json"
}

echo "trace overhead: $N GETs of $URL against cachectl serve, redis $(redis_version "$RPORT"), one at a time; load average $(cut -d' ' -f1 /proc/loadavg)"
printf '%-28s %10s %10s %16s %14s\n' "request latency" "median" "p99" "redis cpu/req" "wall/req"
row "without observation" plain
row "observed, --guard 0" traced 0s
row "observed, --guard 15ms" traced 15ms
i0=$(cpu)
sleep 2
i1=$(cpu)
printf '(redis cpu is used_cpu_user+sys; the same redis idle: %.1f µs per second)\n' "$(echo "($i1 - $i0) * 1000000 / 2" | bc -l)"
