#!/usr/bin/env bash
# ensure-pulumi-yaml.sh - make Pulumi's YAML language host, pulumi-language-yaml, available, so that
# the engine can run programs whose Pulumi.yaml says `runtime: yaml` (examples/yaml).
#
# Prints, as the LAST line of stdout, a directory holding `pulumi-language-yaml`. Progress goes to
# stderr. Typical use, beside the CLI of scripts/ensure-pulumi.sh:
#   PATH="$(scripts/ensure-pulumi-yaml.sh | tail -n1):$(scripts/ensure-pulumi.sh | tail -n1):$PATH"
#
# The pin is the `version=` line below, and only there: this is a Go binary, not a Python package,
# so constraints.txt (pip's constraints, which ensure-pulumi.sh also reads for the CLI because the
# CLI must match the pulumi SDK pinned there) is not its place; ensure-actionlint.sh keeps its pin
# the same way. v1.25.0 is the newest release the Go module proxy serves. It is built against
# pulumi/pkg/v3 and sdk/v3 v3.206.0, older than the CLI (3.260.0): the engine talks to language
# hosts over the versioned gRPC protocol and runs older hosts, and tests/e2e/test_yaml.py runs YAML
# programs through this host and the pinned CLI, so a pin that stops working fails there.
#
# 1. the cache ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-exo-distributor/pulumi-yaml-<version>/bin,
#    used as is when it holds the executable (it only ever appears complete, see 2);
# 2. otherwise it is built, once (a flock serialises concurrent runs), with `go install` of
#    github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@<version> from the Go module proxy,
#    into a temporary directory next to the cache that is renamed into place, so an interrupted
#    build never leaves a half-filled cache. `go install pkg@version` refuses a module whose go.mod
#    has replace directives (the CLI's does, hence ensure-pulumi.sh's throw-away wrapper module);
#    pulumi-yaml's go.mod has none, so the release builds as its authors resolved it, every module
#    checked against its go.sum. The script says so and stops if a new pin's go.mod has any.
#    First build with empty Go caches, 2 cores: ~155 s, 96 MB downloaded (480 MB unpacked in the
#    module cache), 425 MB of build cache, a 31 MB executable (docs/guides/plugin.md).
# A pulumi-language-yaml already on PATH is not used: it has no way to report its version, and the
# tests must run the pinned one (put this directory first on PATH, as scripts/with-tools.sh does).
#
# Environment: XDG_CACHE_HOME, HOME (cache location); GO (go command, default `go`) and Go's own
# variables (GOPROXY, GOFLAGS, GOMODCACHE, GOCACHE, ...).
set -euo pipefail

version=v1.25.0
module=github.com/pulumi/pulumi-yaml
tool=pulumi-language-yaml

log() { printf 'ensure-pulumi-yaml: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-exo-distributor
dest=$cache_root/pulumi-yaml-$version
bin=$dest/bin

if [ -x "$bin/$tool" ]; then
    log "using cached $tool $version ($bin)"
    printf '%s\n' "$bin"
    exit 0
fi

go=${GO:-go}
command -v "$go" >/dev/null ||
    die "Go is required to build $tool $version (no prebuilt download is reachable); install Go and rerun"

mkdir -p "$cache_root"
exec 9>"$cache_root/pulumi-yaml-$version.lock"
if ! flock -n 9; then
    log "waiting for another run that holds $cache_root/pulumi-yaml-$version.lock"
    flock 9
fi
if [ -x "$bin/$tool" ]; then
    log "using $tool $version, built meanwhile by another run ($bin)"
    printf '%s\n' "$bin"
    exit 0
fi

started=$(date +%s)
work=$(mktemp -d "$cache_root/.build-pulumi-yaml-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
stage=$work/pulumi-yaml-$version
mkdir -p "$stage/bin"

log "downloading $module@$version"
if ! info=$(cd "$work" && "$go" mod download -json "$module@$version"); then
    log "$info"
    die "go mod download $module@$version failed"
fi
gomod=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' | head -n1)
[ -f "$gomod" ] || die "go mod download $module@$version gave no go.mod: $info"
if grep -Eq '^[[:space:]]*replace([[:space:]]|\()' "$gomod"; then
    die "$module@$version has replace directives, which go install refuses: build it from a" \
        "throw-away module requiring it, as scripts/ensure-pulumi.sh does for the CLI"
fi

log "building $tool $version with go install (the first time this takes a few minutes)"
# pkg/version.Version is what the host reports to the engine (GetPluginInfo); its releases set it
# the same way. The module's own directory is read-only in the module cache: build from $work.
(cd "$work" && GOBIN=$stage/bin "$go" install -trimpath \
    -ldflags "-s -w -X $module/pkg/version.Version=$version" "$module/cmd/$tool@$version") >&2 ||
    die "go install $module/cmd/$tool@$version failed"
[ -x "$stage/bin/$tool" ] || die "go install left no $tool"

# Move into place: rename(2) of a complete directory; an incomplete old one is set aside.
if [ -e "$dest" ]; then
    mv "$dest" "$work/stale"
fi
mv "$stage" "$dest"
log "built $tool $version into $bin in $(($(date +%s) - started))s"
printf '%s\n' "$bin"
