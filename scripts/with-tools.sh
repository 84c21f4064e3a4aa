#!/usr/bin/env bash
# with-tools.sh TOOL... -- COMMAND [ARG...]: runs COMMAND with each TOOL's directory, then this
# checkout's .venv/bin, first on PATH, in the order given. A TOOL is pulumi (the CLI and its Python
# plugins), pulumi-yaml (the YAML language host) or actionlint: scripts/ensure-TOOL.sh builds it
# once, caches it and prints its directory last.
# If a tool cannot be ensured, COMMAND does not run. The Makefile's targets run through this.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dirs=
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
    pulumi | pulumi-yaml | actionlint) dirs=$dirs$("$here/ensure-$1.sh" | tail -n 1): ;;
    *)
        echo "with-tools.sh: unknown tool '$1' (pulumi, pulumi-yaml, actionlint)" >&2
        exit 2
        ;;
    esac
    shift
done
[ "$#" -ge 2 ] || {
    echo "usage: with-tools.sh TOOL... -- COMMAND [ARG...]" >&2
    exit 2
}
shift
PATH=$dirs$(dirname "$here")/.venv/bin:$PATH exec "$@"
