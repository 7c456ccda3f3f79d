#!/usr/bin/env bash
# Compare `cachectl clear --products --yes` with the redis-cli | xargs
# one-liner, the floor (a minimal pipelined SCAN + UNLINK loop) and a
# SCAN-only pass, on one private redis-server loaded with TOTAL django-redis
# shaped keys of which MATCH_PCT percent are products. Every run reloads the
# data; a side probe GETs every millisecond. Prints medians of RUNS runs.
#
#   perf/clear/run.sh                 # 1,000,000 keys, 90% matching, 3 runs
#   TOTAL=200000 RUNS=1 perf/clear/run.sh
#   PAUSE=2ms perf/clear/run.sh       # also time cachectl with --pause
set -euo pipefail

TOTAL=${TOTAL:-1000000}
MATCH_PCT=${MATCH_PCT:-90}
RUNS=${RUNS:-3}
PAUSE=${PAUSE:-2ms}
. "$(dirname "$0")/../lib.sh"
PORT=${PORT:-$(free_port)}
ADDR=127.0.0.1:$PORT
PATTERN='ecommerce:1:product*'
MATCHING=$((TOTAL * MATCH_PCT / 100))

need redis-server redis-cli
build_cachectl
(cd "$root" && go build -o "$work/clearperf" ./perf/clear)
start_redis "$PORT"
echo "redis $(redis_version "$PORT") on $ADDR;" \
	"$TOTAL keys, $MATCHING in the products group, $RUNS runs each" >&2

count() { redis-cli -p "$PORT" eval "return #redis.call('scan','0','MATCH',ARGV[1],'COUNT','100000000')[2]" 0 "$1"; }
approaches=(xargs floor cachectl cachectl-pause scan-only)
run_one() { # approach -> runs it against the loaded server
	case $1 in
	xargs) redis-cli -p "$PORT" --scan --pattern "$PATTERN" | xargs -r -n 1000 redis-cli -p "$PORT" unlink >/dev/null ;;
	floor) "$work/clearperf" floor "$ADDR" "$PATTERN" 2>/dev/null ;;
	cachectl) "$work/cachectl" clear --redis "redis://$ADDR/0" --products --yes -q ;;
	cachectl-pause) "$work/cachectl" clear --redis "redis://$ADDR/0" --products --yes -q --pause "$PAUSE" ;;
	scan-only) "$work/clearperf" scan "$ADDR" "$PATTERN" 2>/dev/null ;;
	esac
}

for run in $(seq "$RUNS"); do
	for a in "${approaches[@]}"; do
		redis-cli -p "$PORT" flushall >/dev/null # the script's own private server
		"$work/clearperf" load "$ADDR" "$TOTAL" "$MATCHING"
		"$work/clearperf" probe "$ADDR" "$work/probe" &
		probe_pid=$!
		sleep 0.3
		export -f run_one
		export PORT PATTERN ADDR PAUSE work
		/usr/bin/time -f "%e %M" -o "$work/time" bash -c "run_one $a"
		kill -TERM "$probe_pid"
		wait "$probe_pid" || true
		# What is left of the products group, and of the colors that a bare
		# 'product*' pattern also reaches (they must survive: 0 means collateral damage).
		left=$(count 'ecommerce:1:product:*')+$(count 'ecommerce:1:products:*')
		left="$((left))/colors:$(count 'ecommerce:1:product_colors:*')"
		[ "$a" = scan-only ] && left=-
		read -r secs rss_kb <"$work/time"
		read -r p50 p99 pmax <"$work/probe"
		echo "$a $run $secs $rss_kb $p50 $p99 $pmax $left" >>"$work/results"
		echo "run $run $a: ${secs}s rss ${rss_kb}KB probe p99 ${p99}ms left $left" >&2
	done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v a="$1" -v c="$2" '$1==a {print $c}' "$work/results" | median; }
floor_s=$(col floor 3)
xargs_s=$(col xargs 3)
printf '\n| approach | time (median, s) | vs xargs | vs floor | peak RSS (MB) | probe p50 / p99 / max (ms) | products left / colors left |\n'
printf '|---|---|---|---|---|---|---|\n'
for a in "${approaches[@]}"; do
	s=$(col "$a" 3)
	awk -v a="$a" -v s="$s" -v x="$xargs_s" -v f="$floor_s" -v rss="$(col "$a" 4)" \
		-v p50="$(col "$a" 5)" -v p99="$(col "$a" 6)" -v pmax="$(col "$a" 7)" \
		-v left="$(awk -v a="$a" '$1==a {print $8}' "$work/results" | sort -u | tr '\n' ' ')" \
		'BEGIN { printf "| %s | %.2f | %.2fx faster | %.2fx | %.1f | %s / %s / %s | %s |\n", a, s, x/s, s/f, rss/1024, p50, p99, pmax, left }'
done
printf '\nRSS of xargs is of its shell pipeline only; cachectl-pause uses --pause %s.\n' "$PAUSE"
