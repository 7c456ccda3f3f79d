# The set-up the perf scripts share; each sources it after `set -euo pipefail`:
#
#   . "$(dirname "$0")/../lib.sh"
#
# It sets root (the repository) and work (a temporary directory), and on exit
# kills every process whose pid was added to pids and removes work.
# Helpers: need, free_port, redis_and_api, build_cachectl, start_redis,
# redis_version, start_serve, wait_for, wait_http.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# need TOOL...: exits, saying how to install it, at the first TOOL not on PATH.
need() {
	local tool pkg
	for tool; do
		command -v "$tool" >/dev/null && continue
		pkg=$tool
		[ "$tool" = redis-cli ] && pkg=redis-tools
		echo "perf: $tool not on PATH (apt-get install -y $pkg)" >&2
		exit 1
	done
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# redis_and_api sets the ports of a private Redis and serve, RPORT and APORT
# (free ones unless the caller set them), and their URLs REDIS (db 0) and API.
redis_and_api() {
	RPORT=${RPORT:-$(free_port)}
	APORT=${APORT:-$(free_port)}
	REDIS=redis://127.0.0.1:$RPORT/0
	API=http://127.0.0.1:$APORT
}

# build_cachectl builds the command into $work/cachectl.
build_cachectl() { (cd "$root" && go build -o "$work/cachectl" ./cmd/cachectl); }

# wait_for WHAT CMD...: runs CMD every 0.1 s until it succeeds; exits after 60 s.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 600); do "$@" >/dev/null 2>&1 && return; sleep 0.1; done
	echo "perf: $what never answered" >&2
	exit 1
}

# wait_http URL: waits until URL answers 2xx.
wait_http() { wait_for "$1" curl -fs "$1"; }

# start_redis PORT [ARG...]: a private redis-server on 127.0.0.1:PORT without
# persistence, its log in $work/redis.log; returns once it answers PING.
start_redis() {
	local port=$1
	shift
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
		--logfile "$work/redis.log" "$@" &
	pids+=($!)
	wait_for "redis-server on port $port" redis-cli -p "$port" ping
}

# redis_version PORT prints the version of the redis-server on PORT.
redis_version() { redis-cli -p "$1" info server | awk -F: '/^redis_version/{print $2}' | tr -d '\r'; }

# start_serve PORT REDIS_URL [ARG...]: $work/cachectl serve -q on
# 127.0.0.1:PORT, its stderr in $work/serve.log; returns once /healthz answers.
start_serve() {
	local port=$1 redis=$2
	shift 2
	"$work/cachectl" serve --redis "$redis" --listen "127.0.0.1:$port" -q "$@" 2>>"$work/serve.log" &
	pids+=($!)
	wait_http "http://127.0.0.1:$port/healthz"
}
