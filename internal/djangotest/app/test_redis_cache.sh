#!/usr/bin/env bash
# Tests the catalog's Redis caching end to end: checks the Redis connection,
# clears the cache, warms it up, times a cold and a warm request per
# endpoint, shows the cached keys and Redis's hit statistics.
#
#   ./test_redis_cache.sh
#
# Settings come from the environment, as the app's do:
#   API_URL                the running API (default http://localhost:8000)
#   CATALOG_REDIS_URL      the cache's Redis (default redis://127.0.0.1:6379/1)
#   CATALOG_CACHE_PREFIX   KEY_PREFIX (default ecommerce)
#   PYTHON                 the interpreter for manage.py (default python3)
set -euo pipefail
cd "$(dirname "$0")"

API_URL="${API_URL:-http://localhost:8000}"
REDIS_URL="${CATALOG_REDIS_URL:-redis://127.0.0.1:6379/1}"
PREFIX="${CATALOG_CACHE_PREFIX:-ecommerce}"
PYTHON="${PYTHON:-python3}"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

step "1. Redis connection"
pong="$(redis-cli -u "$REDIS_URL" ping 2>&1)" || fail "redis-cli: $pong"
[ "$pong" = PONG ] || fail "Redis answered: $pong"
echo "Redis: $pong"

step "2. Clear cache"
"$PYTHON" manage.py clear_product_cache --all

step "3. Warm up cache"
"$PYTHON" manage.py warmup_cache --verbose

step "4. Cache performance (first request, second request)"
endpoints=(
  /api/categories/
  /api/colors/
  /api/products/
  /api/products/1/
  /api/products/1/variants/
  /api/products/1/recommendations/
  /api/products/top_sellers/
  /api/products/new_arrivals/
  "/api/products/personalized/?user_id=1"
  /api/products/filters/
)
for path in "${endpoints[@]}"; do
  cold="$(curl -fsS -o /dev/null -w '%{time_total}' "$API_URL$path")" || fail "GET $path"
  warm="$(curl -fsS -o /dev/null -w '%{time_total}' "$API_URL$path")" || fail "GET $path"
  printf '%-45s first %ss  second %ss\n' "$path" "$cold" "$warm"
done

step "5. Cached keys"
keys="$(redis-cli -u "$REDIS_URL" --scan --pattern "$PREFIX:*" | sort)"
[ -n "$keys" ] || fail "no keys under $PREFIX:* after the requests"
printf '%s\n' "$keys"
echo "total: $(printf '%s\n' "$keys" | wc -l) keys"

step "6. Cache statistics"
redis-cli -u "$REDIS_URL" INFO stats | grep -E '^keyspace_(hits|misses):' | tr -d '\r'
redis-cli -u "$REDIS_URL" INFO keyspace | grep -E '^db[0-9]+:' | tr -d '\r'

printf '\nAll cache checks passed.\n'
