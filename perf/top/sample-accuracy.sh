#!/usr/bin/env bash
# How close `cachectl top`'s sampled hit rate per group comes to the truth,
# and what the sampling adds to Redis's CPU (issue 18, Accuracy: within ±3
# points at 95%, at most 2% of a core). Against the Django fixture
# (internal/djangotest/app on gunicorn, 3 sync workers, X-Cache on) and a
# private redis-server, perf/top/sampleacc replays rounds with a known hit
# ratio per group, first under `top --json --no-sample`, then under
# `top --json` sampling at its defaults, and prints per group the truth
# (X-Cache, checked against INFO keyspace_hits/misses in a products-only
# phase) beside the estimate and its interval, and the added Redis CPU.
#
#   perf/top/sample-accuracy.sh
#   DURATION=3m C=8 perf/top/sample-accuracy.sh -product-miss 0.2
set -euo pipefail

PRODUCTS=${PRODUCTS:-200}
DURATION=${DURATION:-2m}
C=${C:-6}
PYTHON=/usr/bin/python3
. "$(dirname "$0")/../lib.sh"
RPORT=${RPORT:-$(free_port)}
DPORT=${DPORT:-$(free_port)}

need redis-server redis-cli curl
"$PYTHON" -c 'import django, rest_framework, django_redis, django_filters, gunicorn' ||
	{ echo "the Django fixture's packages are missing: run scripts/test.sh" >&2; exit 1; }
build_cachectl
start_redis "$RPORT"

cp -r "$root/internal/djangotest/app" "$work/app"
export CATALOG_DB_PATH=$work/db.sqlite3 CATALOG_REDIS_URL=redis://127.0.0.1:$RPORT/1 PYTHONDONTWRITEBYTECODE=1 \
	CATALOG_CACHE_HEADER=1 CATALOG_ALLOWED_HOSTS=127.0.0.1,localhost
(cd "$work/app" && "$PYTHON" manage.py migrate -v 0 && "$PYTHON" manage.py seed --products "$PRODUCTS" >/dev/null)
# Django logs each 404 (top's probe of /metrics) on stderr: kept in django.log.
(cd "$work/app" && exec "$PYTHON" -m gunicorn -w 3 -b "127.0.0.1:$DPORT" --preload \
	--error-logfile "$work/gunicorn.log" ecommerce.wsgi:application 2>>"$work/django.log") &
pids+=($!)
wait_http "http://127.0.0.1:$DPORT/api/"

echo "sampled hit rate vs truth: django fixture ($PRODUCTS products, 3 sync workers), redis $(redis_version "$RPORT"), $(nproc) cpus"
(cd "$root" && go run ./perf/top/sampleacc -cachectl "$work/cachectl" -api "http://127.0.0.1:$DPORT" \
	-redis "redis://127.0.0.1:$RPORT/1" -duration "$DURATION" -c "$C" "$@")
