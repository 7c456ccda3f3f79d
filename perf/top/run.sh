#!/bin/sh
# Measures `cachectl top` against a private redis-server holding 1,000,000
# keys and prints the figures of issue 7's Performance section.
# Usage: perf/top/run.sh [-keys N] [-window DUR] [-interval DUR]
set -eu
cd "$(dirname "$0")/../.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/cachectl" ./cmd/cachectl
go run ./perf/top -cachectl "$bin/cachectl" "$@"
