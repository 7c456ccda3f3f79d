#!/usr/bin/env bash
# The test command: makes sure what the tests need is installed, then runs
# go vet and the race-enabled test suite. Safe to run again and again.
#
#   scripts/test.sh            # everything
#   scripts/test.sh ./keyspace # extra arguments go to go test instead of ./...
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test.sh: %s\n' "$*" >&2; }

install_debian() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      say "need root (or sudo) to run: apt-get install -y $*"; exit 1
    fi
  fi
  say "installing $* (apt-get)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Tests start their own private redis-server processes from PATH.
if ! command -v redis-server >/dev/null 2>&1; then
  case "$(uname -s)" in
    Linux)
      if command -v apt-get >/dev/null 2>&1; then
        install_debian redis-server
      else
        say "redis-server is missing: install it with your package manager (e.g. dnf install redis), then re-run"; exit 1
      fi ;;
    Darwin)
      say "redis-server is missing: brew install redis, then re-run"; exit 1 ;;
    *)
      say "redis-server is missing: install Redis 6.2 or newer, then re-run"; exit 1 ;;
  esac
fi
command -v redis-server >/dev/null 2>&1 || { say "redis-server still not on PATH"; exit 1; }

# The dashboard's end-to-end test runs `cachectl top` in a real terminal (tmux).
if ! command -v tmux >/dev/null 2>&1; then
  if [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1; then
    install_debian tmux
  else
    say "tmux is missing: install it with your package manager (brew install tmux, dnf install tmux), then re-run"; exit 1
  fi
fi

# The Django fixture (internal/djangotest) runs on Debian's Django 3.2, DRF,
# django-redis, django-filter and gunicorn for /usr/bin/python3 (never a
# python3 from pyenv or a virtualenv); its test_redis_cache.sh uses curl.
django_ready() {
  /usr/bin/python3 -s -c 'import django, rest_framework, django_redis, django_filters, gunicorn' >/dev/null 2>&1 &&
    command -v gunicorn >/dev/null 2>&1 && command -v curl >/dev/null 2>&1
}
if ! django_ready; then
  if [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1; then
    install_debian python3-django python3-djangorestframework python3-django-redis python3-django-filters gunicorn curl
  else
    say "the Django fixture needs Django 3.2, djangorestframework, django-redis, django-filter and gunicorn for /usr/bin/python3, and curl: install them, then re-run"; exit 1
  fi
fi
django_ready || { say "the Django fixture's packages are still missing for /usr/bin/python3"; exit 1; }

if ! command -v go >/dev/null 2>&1; then
  say "go is missing: install Go 1.26 or newer, then re-run"; exit 1
fi

say "$(go version), $(redis-server --version | cut -d' ' -f1-3)"
go vet ./...
if [ "$#" -gt 0 ]; then
  go test -race -timeout 15m "$@"
else
  go test -race -timeout 15m ./...
fi
