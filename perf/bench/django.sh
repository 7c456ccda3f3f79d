#!/usr/bin/env bash
# `cachectl bench` at its defaults against the Django fixture
# (internal/djangotest/app: Django + DRF + django-redis on SQLite, gunicorn
# with 3 sync workers) without and with a simulated 2 ms per SQL query, and
# against `cachectl serve --db-latency 2ms` with as many products, one after the other on private
# redis-servers. Prints per endpoint the serial speedup (cold p50 / warm p50,
# one request at a time) beside p50 under load at -c 10, which on 3 sync
# workers queues.
#
#   perf/bench/django.sh
#   PRODUCTS=1000 PAIRS=50 perf/bench/django.sh
set -euo pipefail

PRODUCTS=${PRODUCTS:-200}
PAIRS=${PAIRS:-30}
PYTHON=/usr/bin/python3
. "$(dirname "$0")/../lib.sh"
RPORT=${RPORT:-$(free_port)}
DPORT=${DPORT:-$(free_port)}
SPORT=${SPORT:-$(free_port)}

need redis-server redis-cli curl jq
"$PYTHON" -c 'import django, rest_framework, django_redis, django_filters, gunicorn' ||
	{ echo "the Django fixture's packages are missing: run scripts/test.sh" >&2; exit 1; }
build_cachectl
start_redis "$RPORT"

cp -r "$root/internal/djangotest/app" "$work/app"
export CATALOG_DB_PATH=$work/db.sqlite3 CATALOG_REDIS_URL=redis://127.0.0.1:$RPORT/1 PYTHONDONTWRITEBYTECODE=1
(cd "$work/app" && "$PYTHON" manage.py migrate -v 0 && "$PYTHON" manage.py seed --products "$PRODUCTS" >/dev/null)

# Prints "NAME SPEEDUP LOAD_P50_MS" per endpoint of one bench run.
bench() {
	"$work/cachectl" bench --api "$1" --redis "$2" --cold-samples "$PAIRS" --json |
		jq -r '.endpoints[] | "\(.name) \(.speedup) \(.warm.p50_ms)"'
}

# django LATENCY_MS: the fixture on gunicorn, benched, then stopped.
django() {
	(cd "$work/app" && CATALOG_SIMULATED_DB_LATENCY_MS=$1 exec "$PYTHON" -m gunicorn -w 3 -b "127.0.0.1:$DPORT" \
		--preload --error-logfile "$work/gunicorn.log" ecommerce.wsgi:application) &
	local pid=$!
	pids+=("$pid")
	wait_http "http://127.0.0.1:$DPORT/api/"
	bench "http://127.0.0.1:$DPORT" "redis://127.0.0.1:$RPORT/1"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

django 0 >"$work/sqlite.txt"
django 2 >"$work/sim.txt"

start_serve "$SPORT" "redis://127.0.0.1:$RPORT/0" --seed-products "$PRODUCTS" --db-latency 2ms
bench "http://127.0.0.1:$SPORT" "redis://127.0.0.1:$RPORT/0" >"$work/serve.txt"

echo "cachectl bench defaults ($PAIRS pairs one at a time; 1000 requests at -c 10 under load); fixture: $PRODUCTS products, 3 sync workers"
printf '%-16s %24s %24s %24s\n' "" "django, sqlite" "django, +2 ms/query" "serve --db-latency 2ms"
printf '%-16s %11s %12s %11s %12s %11s %12s\n' endpoint speedup "load p50" speedup "load p50" speedup "load p50"
join <(sort "$work/sqlite.txt") <(sort "$work/sim.txt") | join - <(sort "$work/serve.txt") |
	awk '{printf "%-16s %10.1fx %9.2f ms %10.1fx %9.2f ms %10.1fx %9.2f ms\n", $1, $2, $3, $4, $5, $6, $7}'
