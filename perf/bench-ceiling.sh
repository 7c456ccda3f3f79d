#!/usr/bin/env bash
# The load engine's ceiling: the most requests per second `cachectl bench`'s
# load phase reaches on a static 2 KB endpoint (perf/ceiling), beside wrk and
# the hey command (the requester bench used before) on the same endpoint, at
# the same connections, on this machine. Each runs 3 times, interleaved; the
# medians and the ratios to wrk are printed. Target: bench >= 0.8x wrk.
#
#   perf/bench-ceiling.sh
#   CONNS=50 SECONDS_EACH=5 perf/bench-ceiling.sh
set -euo pipefail

CONNS=${CONNS:-50}
SECONDS_EACH=${SECONDS_EACH:-5}
RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh"

need wrk redis-server redis-cli curl jq
echo "building..." >&2
build_cachectl
(cd "$root" && go build -o "$work/ceiling" ./perf/ceiling)
(cd "$root" && GOBIN=$work go install github.com/rakyll/hey@v0.1.5)

RPORT=$(free_port)
start_redis "$RPORT"
SPORT=$(free_port)
"$work/ceiling" -listen "127.0.0.1:$SPORT" &
pids+=($!)
URL=http://127.0.0.1:$SPORT/
wait_http "$URL"
printf -- '- name: static\n  url: /\n  cold: false\n' >"$work/endpoints.yaml"

# A rough request count that takes about SECONDS_EACH at the rate wrk reaches.
probe=$(wrk -t2 -c"$CONNS" -d1s "$URL" | awk '/Requests\/sec:/{printf "%d", $2}')
N=$((probe * SECONDS_EACH))

run_wrk() { wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" "$URL" | awk '/Requests\/sec:/{print $2}'; }
run_hey() { "$work/hey" -n "$N" -c "$CONNS" "$URL" | awk '/Requests\/sec:/{print $2}'; }
run_bench() {
	"$work/cachectl" bench --api "http://127.0.0.1:$SPORT" --redis "redis://127.0.0.1:$RPORT/0" \
		--endpoints "$work/endpoints.yaml" -n "$N" -c "$CONNS" --json | jq -r '.endpoints[0].warm.rps'
}
median() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

echo "static 2 KB body, $CONNS connections, about ${SECONDS_EACH}s ($N requests) per run, $RUNS runs each, $(nproc) CPUs"
for i in $(seq "$RUNS"); do
	for tool in wrk hey bench; do
		r=$("run_$tool")
		echo "$r" >>"$work/rps.$tool"
		printf 'run %d %-6s %10.0f req/s\n' "$i" "$tool" "$r"
	done
done
w=$(median <"$work/rps.wrk")
h=$(median <"$work/rps.hey")
b=$(median <"$work/rps.bench")
echo
printf '%-28s %10s %8s\n' generator "req/s" "x wrk"
printf '%-28s %10.0f %8.2f\n' "wrk -t2" "$w" 1
printf '%-28s %10.0f %8.2f\n' "hey (rakyll/hey v0.1.5)" "$h" "$(awk -v a="$h" -v b="$w" 'BEGIN{print a/b}')"
printf '%-28s %10.0f %8.2f\n' "cachectl bench (closed)" "$b" "$(awk -v a="$b" -v b="$w" 'BEGIN{print a/b}')"
