#!/usr/bin/env bash
# Checks the release configuration and builds a snapshot release into dist/,
# publishing nothing: what a tag would ship, built and inspected locally.
#
#   scripts/release-check.sh
#
# goreleaser is a Go module, run at a pinned version: nothing to install.
set -euo pipefail
cd "$(dirname "$0")/.."

goreleaser() { go run github.com/goreleaser/goreleaser/v2@v2.15.1 "$@"; }
say() { printf 'release-check.sh: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

say "checking .goreleaser.yaml"
goreleaser check

say "building a snapshot release (nothing is published)"
goreleaser release --snapshot --clean --skip=publish

cd dist
shopt -s nullglob
archives=(*.tar.gz *.zip)
packages=(*.deb *.rpm)
[ "${#archives[@]}" -eq 6 ] || fail "want 6 archives (linux, darwin, windows × amd64, arm64), got ${#archives[@]}: ${archives[*]}"
[ "${#packages[@]}" -eq 4 ] || fail "want 4 packages (deb, rpm × amd64, arm64), got ${#packages[@]}: ${packages[*]}"

say "checksums"
sha256sum -c checksums.txt >/dev/null || fail "checksums.txt does not match the artifacts"

say "contents of every archive"
for a in "${archives[@]}"; do
  case "$a" in
    *.zip) list=$(unzip -Z1 "$a") ;;
    *)     list=$(tar -tzf "$a") ;;
  esac
  for f in README.md LICENSE completions/cachectl.bash completions/cachectl.zsh completions/cachectl.fish \
           completions/cachectl.ps1 manpages/cachectl.1.gz manpages/cachectl-check.1.gz; do
    grep -qx "$f" <<<"$list" || fail "$a lacks $f"
  done
  grep -Eqx 'cachectl(\.exe)?' <<<"$list" || fail "$a lacks the binary"
done

host_os=$(go env GOOS) host_arch=$(go env GOARCH)
bin=$(ls -d cachectl_"${host_os}"_"${host_arch}"*/cachectl 2>/dev/null | head -1 || true)
if [ -n "$bin" ]; then
  say "the ${host_os}/${host_arch} binary says: $("$bin" version)"
  file_out=$(file -b "$bin" 2>/dev/null || true)
  case "$file_out" in *dynamically*) fail "$bin is dynamically linked: CGO must be off" ;; esac
fi

say "built:"
ls -l "${archives[@]}" "${packages[@]}" checksums.txt
