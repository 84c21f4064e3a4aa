#!/usr/bin/env bash
# smoke-pulumi.sh - check that the toolchain from scripts/ensure-pulumi.sh can deploy and destroy
# a Python dynamic resource: `pulumi up` then `pulumi destroy` of a throw-away project in a
# temporary directory, with a local file backend. Uses the virtualenv $VENV (default: this
# checkout's .venv), which needs the pulumi SDK. Exits non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${VENV:-$(dirname "$here")/.venv}
[ -x "$venv/bin/python" ] || {
    echo "smoke-pulumi: no virtualenv at $venv (set VENV)" >&2
    exit 1
}
venv=$(cd "$venv" && pwd)

bin=$("$here/ensure-pulumi.sh" | tail -n1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project" "$work/state" "$work/home"

cat >"$work/project/Pulumi.yaml" <<EOF
name: smoke-dynamic
runtime:
  name: python
  options:
    virtualenv: $venv
EOF
cat >"$work/project/__main__.py" <<'EOF'
import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class Provider(ResourceProvider):
    def create(self, props):
        return CreateResult(id_="smoke", outs={"greeting": "hello " + props["name"]})


class Greeting(Resource):
    greeting: pulumi.Output[str]

    def __init__(self, name, who):
        super().__init__(Provider(), name, {"name": who, "greeting": None})


pulumi.export("greeting", Greeting("smoke", pulumi.Config().require("who")).greeting)
EOF

export PATH="$bin:$venv/bin:$PATH" PULUMI_HOME=$work/home PULUMI_CONFIG_PASSPHRASE=smoke \
    PULUMI_SKIP_UPDATE_CHECK=1 PULUMI_DIY_BACKEND_URL=file://$work/state
cd "$work/project"
pulumi login "file://$work/state" >&2
pulumi stack init smoke >&2
pulumi config set who world >&2
pulumi up --yes --skip-preview >&2
greeting=$(pulumi stack output greeting)
[ "$greeting" = "hello world" ] || {
    echo "smoke-pulumi: unexpected output '$greeting'" >&2
    exit 1
}
pulumi destroy --yes --skip-preview >&2
echo "smoke-pulumi: ok (pulumi up + destroy of a dynamic resource with $bin/pulumi)"
