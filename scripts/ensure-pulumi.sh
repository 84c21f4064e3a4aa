#!/usr/bin/env bash
# ensure-pulumi.sh - make the Pulumi CLI that matches our pinned `pulumi` Python SDK available.
#
# Prints, as the LAST line of stdout, a directory holding
#   pulumi                          the CLI (release v<pin>, pin read from constraints.txt)
#   pulumi-language-python          the Python language host
#   pulumi-language-python-exec     its exec shim
#   pulumi-resource-pulumi-python   the dynamic-provider shim
# Progress messages go to stderr. Typical use:
#   PATH="$(scripts/ensure-pulumi.sh | tail -n1):$PATH"
#
# Order of preference:
#   1. a `pulumi` on PATH whose version is >= the pin, with the three companions beside it
#      or on PATH (skipped when ENSURE_PULUMI_IGNORE_PATH is non-empty);
#   2. the cache ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-exo-distributor/pulumi-v<pin>/bin,
#      used as is when it has all four executables and its `pulumi version` is v<pin>;
#   3. otherwise the cache is built (once; a flock serialises concurrent runs) in a
#      temporary directory next to it and renamed into place, so an interrupted build never
#      leaves a half-filled cache.
#
# How the pieces are obtained (our machines reach package registries only, not the Pulumi
# download site nor GitHub):
#   * pulumi: built with Go from the Go module proxy. `go install .../pkg/v3/cmd/pulumi@v<pin>`
#     refuses because pkg/v3's go.mod has replace directives, so we build from a throw-away
#     wrapper module that requires pkg/v3 and sdk/v3 at v<pin> and copies pkg/v3's non-local
#     replace lines. First build: roughly 7 minutes and ~1.7 GB of module downloads on 2
#     cores, plus ~1.7 GB of Go build cache; later builds reuse Go's module and build caches.
#   * pulumi-language-python-exec and pulumi-resource-pulumi-python: plain files of the
#     sdk/v3 module (python/cmd/ and python/dist/), copied from the Go module cache.
#   * pulumi-language-python: NOT Pulumi's Go language host. Its module
#     github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 is not served by the
#     module proxy we can reach: @v/list, @v/v3.260.0 and pseudo-versions all answer
#     "403 This module version is not available", exactly like a module path that does not
#     exist, while pkg/v3 and sdk/v3 are listed (that proxy only serves an allow-list of
#     module versions). No other registry ships that binary: there is no Debian package,
#     the PyPI `pulumi` wheel has no binaries, and the npm CLI wrappers download from the
#     Pulumi site at install time. So we install our own small host written in Python,
#     scripts/pulumi_language_python_host.py (see its docstring for what it implements), and
#     a `pulumi-language-python` wrapper that starts it with the first python it finds
#     ($PULUMI_LANGUAGE_PYTHON_HOST_PYTHON, python3, python, $VIRTUAL_ENV/bin/python). The host
#     then runs itself with the interpreter of the program's own virtualenv (Pulumi.yaml), so
#     nothing in the shared cache points at one checkout's .venv. A change of either file
#     (compared byte for byte) refreshes the cache's copy.
#
# Environment: XDG_CACHE_HOME, HOME (cache location); ENSURE_PULUMI_IGNORE_PATH (ignore a
# pulumi on PATH); GO (go command, default `go`) and Go's own variables (GOPROXY, GOFLAGS,
# GOMODCACHE, GOCACHE, ...). At run time the wrapper honours PULUMI_LANGUAGE_PYTHON_HOST_PYTHON.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
host_py_src=$here/pulumi_language_python_host.py

log() { printf 'ensure-pulumi: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

[ -f "$repo/constraints.txt" ] || die "missing $repo/constraints.txt"
version=$(sed -n 's/^pulumi==\([0-9][0-9.]*\)[[:space:]]*$/\1/p' "$repo/constraints.txt" | head -n1)
[ -n "$version" ] || die "no 'pulumi==X.Y.Z' line in $repo/constraints.txt"
tag=v$version
companions=(pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python)

# version_at_least A B: true when version A >= version B.
version_at_least() {
    [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# --- 1. a recent enough pulumi on PATH -------------------------------------------------
if [ -z "${ENSURE_PULUMI_IGNORE_PATH:-}" ] && path_pulumi=$(command -v pulumi); then
    path_dir=$(cd "$(dirname "$path_pulumi")" && pwd)
    path_version=$(pulumi version 2>/dev/null || true)
    path_version=${path_version#v}
    if [ -n "$path_version" ] && version_at_least "$path_version" "$version"; then
        missing=()
        for tool in "${companions[@]}"; do
            [ -x "$path_dir/$tool" ] || command -v "$tool" >/dev/null || missing+=("$tool")
        done
        if [ "${#missing[@]}" -eq 0 ]; then
            log "using pulumi v$path_version from PATH ($path_dir)"
            printf '%s\n' "$path_dir"
            exit 0
        fi
        log "pulumi v$path_version on PATH lacks ${missing[*]}; using the cache"
    else
        log "pulumi on PATH is '${path_version:-unknown}', older than $tag; using the cache"
    fi
fi

# --- 2. the cache ----------------------------------------------------------------------
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-exo-distributor
dest=$cache_root/pulumi-$tag
bin=$dest/bin

wrapper_text() {
    cat <<EOF
#!/bin/sh
# Pulumi language host for Python ($tag), installed by pulumi-exo-distributor's
# scripts/ensure-pulumi.sh: starts pulumi_language_python_host.py beside this file with the first
# python found; the host then moves to the interpreter of the program's virtualenv by itself.
here=\$(cd "\$(dirname "\$0")" && pwd)
for py in "\${PULUMI_LANGUAGE_PYTHON_HOST_PYTHON:-}" python3 python "\${VIRTUAL_ENV:+\$VIRTUAL_ENV/bin/python}"; do
    if [ -n "\$py" ] && command -v "\$py" >/dev/null 2>&1; then
        exec "\$py" "\$here/pulumi_language_python_host.py" --host-version=$version "\$@"
    fi
done
echo "pulumi-language-python: no python on PATH; set PULUMI_LANGUAGE_PYTHON_HOST_PYTHON" >&2
exit 1
EOF
}

cache_complete() {
    local tool
    for tool in pulumi "${companions[@]}"; do
        [ -x "$bin/$tool" ] || return 1
    done
    [ "$("$bin/pulumi" version 2>/dev/null || true)" = "$tag" ]
}

host_files_current() {
    cmp -s "$host_py_src" "$bin/pulumi_language_python_host.py" &&
        [ "$(cat "$bin/pulumi-language-python")" = "$(wrapper_text)" ] &&
        [ ! -e "$bin/host-python" ]
}

# install_file DIR NAME MODE: stdin -> DIR/NAME, replaced atomically.
install_file() {
    local tmp_file
    tmp_file=$(mktemp "$1/.$2.XXXXXX")
    cat >"$tmp_file"
    chmod "$3" "$tmp_file"
    mv -f "$tmp_file" "$1/$2"
}

# write_host_files DIR: the Python language host and its wrapper; host-python, the interpreter
# that earlier versions recorded for the wrapper, goes.
write_host_files() {
    install_file "$1" pulumi_language_python_host.py 0644 <"$host_py_src"
    wrapper_text | install_file "$1" pulumi-language-python 0755
    rm -f "$1/host-python"
}

if cache_complete && host_files_current; then
    log "using cached pulumi $tag ($bin)"
    printf '%s\n' "$bin"
    exit 0
fi

[ -f "$host_py_src" ] || die "missing $host_py_src"
mkdir -p "$cache_root"
exec 9>"$cache_root/pulumi-$tag.lock"
if ! flock -n 9; then
    log "waiting for another run that holds $cache_root/pulumi-$tag.lock"
    flock 9
fi

if cache_complete; then
    # Built meanwhile by another run, or only the language host files are out of date.
    if ! host_files_current; then
        write_host_files "$bin"
        log "refreshed the language host files in $bin"
    fi
    log "using cached pulumi $tag ($bin)"
    printf '%s\n' "$bin"
    exit 0
fi

# --- 3. build --------------------------------------------------------------------------
go=${GO:-go}
command -v "$go" >/dev/null ||
    die "Go is required to build the Pulumi CLI $tag (no prebuilt download is reachable); install Go and rerun"

started=$(date +%s)
work=$(mktemp -d "$cache_root/.build-$tag.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log "building pulumi $tag in $work (the first time this takes several minutes)"

stage=$work/pulumi-$tag
mkdir -p "$work/module" "$stage/bin"

# go_json_field FIELD: the string value of "FIELD" in `go mod download -json` output on stdin.
go_json_field() {
    sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" | head -n1
}

download() { # MODULE@VERSION -> JSON on stdout
    local out
    if ! out=$(cd "$work" && "$go" mod download -json "$1"); then
        log "$out"
        die "go mod download $1 failed"
    fi
    if printf '%s\n' "$out" | grep -q '"Error":'; then
        die "go mod download $1: $(printf '%s\n' "$out" | go_json_field Error)"
    fi
    printf '%s\n' "$out"
}

log "downloading github.com/pulumi/pulumi/sdk/v3@$tag and pkg/v3@$tag"
sdk_dir=$(download "github.com/pulumi/pulumi/sdk/v3@$tag" | go_json_field Dir)
pkg_gomod=$(download "github.com/pulumi/pulumi/pkg/v3@$tag" | go_json_field GoMod)
[ -d "$sdk_dir" ] || die "no module directory for sdk/v3@$tag"
[ -f "$pkg_gomod" ] || die "no go.mod for pkg/v3@$tag"

# The wrapper module: pkg/v3 and sdk/v3 at the tag, plus pkg/v3's non-local replace lines
# (those pointing into the pulumi repository, like sdk/v3 => ../sdk, make no sense here).
cd "$work/module"
"$go" mod init pulumi-cli-build 2>/dev/null || die "go mod init failed in $work/module"
cat >>go.mod <<EOF

require (
	github.com/pulumi/pulumi/pkg/v3 $tag
	github.com/pulumi/pulumi/sdk/v3 $tag
)
EOF
awk '
    /^replace[ \t]*\($/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    { line = "" }
    block { line = $0 }
    /^replace[ \t]/ && !/\($/ { line = $0; sub(/^replace[ \t]+/, "", line) }
    line != "" {
        rhs = line; sub(/.*=>[ \t]*/, "", rhs)
        if (rhs !~ /^[.\/]/) { sub(/^[ \t]+/, "", line); print "replace " line }
    }
' "$pkg_gomod" >>go.mod
cat >tools.go <<'EOF'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
EOF
log "copied replace lines: $(grep '^replace ' go.mod | tr '\n' ';')"

log "go mod tidy"
"$go" mod tidy >&2 || die "go mod tidy failed for the pulumi $tag wrapper module"
sdk_resolved=$("$go" list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3) || die "go list -m failed"
[ "$sdk_resolved" = "$tag" ] || die "sdk/v3 resolved to $sdk_resolved instead of $tag"

log "go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
"$go" build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$tag" \
    -o "$stage/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2 ||
    die "go build of the pulumi CLI $tag failed"
built_version=$("$stage/bin/pulumi" version) || die "the built pulumi does not run"
[ "$built_version" = "$tag" ] || die "the built pulumi reports $built_version instead of $tag"

for shim in python/cmd/pulumi-language-python-exec python/dist/pulumi-resource-pulumi-python; do
    [ -f "$sdk_dir/$shim" ] || die "sdk/v3@$tag has no $shim"
    install -m 0755 "$sdk_dir/$shim" "$stage/bin/"
done
write_host_files "$stage/bin"

# Move into place: rename(2) of a complete directory; an incomplete old one is set aside.
if [ -e "$dest" ]; then
    mv "$dest" "$work/stale"
fi
mv "$stage" "$dest"
log "built pulumi $tag into $bin in $(($(date +%s) - started))s"
printf '%s\n' "$bin"
