"""A small Pulumi language host for Python programs.

scripts/ensure-pulumi.sh installs this file, together with a `pulumi-language-python`
wrapper that runs it, next to the `pulumi` CLI it builds. It stands in for Pulumi's own
Go language host, whose module (`github.com/pulumi/pulumi/sdk/python/cmd/
pulumi-language-python/v3`) the Go module proxy reachable from our machines does not serve;
the header of ensure-pulumi.sh has the details.

The engine starts a language plugin as `pulumi-language-python [flags] <engine-address>`,
in the project's directory, and reads the TCP port of its gRPC server from the first line of
stdout. The host then serves the `pulumirpc.LanguageRuntime` service, using the stubs
generated into the pulumi Python SDK (`pulumi.runtime.proto`).

What it implements, following the behaviour of the upstream host (pulumi v3.260.0:
sdk/python/cmd/pulumi-language-python/main.go and sdk/python/toolchain):

* ``Run``: runs `pulumi-language-python-exec` (the shim shipped with the SDK sources)
  with the interpreter of the program's virtualenv, as the RunRequest's program info gives
  it (``runtime.options`` of Pulumi.yaml): ``virtualenv`` relative to the project's root;
  with the ``uv`` toolchain and no ``virtualenv``, ``$UV_PROJECT_ENVIRONMENT`` or ``.venv``
  beside the nearest ``uv.lock`` (else ``pyproject.toml``, else the program's directory);
  without a toolchain, ``uv`` when a ``uv.lock`` is found upwards of the program, the
  unsupported ``poetry`` when a ``poetry.lock`` is, else ``pip``. Without a virtualenv:
  ``$PULUMI_PYTHON_CMD``, ``python3`` or ``python``. Config goes in ``PULUMI_CONFIG`` /
  ``PULUMI_CONFIG_SECRET_KEYS``. Exit code 32 means the program already reported its error
  (``bail``); any other failure is returned as an error string.
* ``GetRequiredPackages``: the resource plugins of installed packages that carry a
  ``pulumi-plugin.json`` (or are named ``pulumi-*``/``pulumi_*``).
* ``GetPluginInfo``, ``Handshake``, ``About``, ``GetProgramDependencies``, ``Cancel``.

What differs:

* The host itself is Python (the upstream one is a Go binary), so it needs an interpreter
  with the pulumi SDK and grpcio before the engine has said which program it serves. It
  takes, in this order: ``$PULUMI_LANGUAGE_PYTHON_HOST_PYTHON`` if set (used as is); the
  interpreter of the program's own virtualenv, read from the ``Pulumi.yaml`` found in the
  directory the engine starts it in or above (block-style YAML, unless the first python has
  PyYAML); ``$VIRTUAL_ENV``'s; ``python3`` and ``python`` on PATH. It starts with whichever
  the wrapper found first, moves to the best one with ``exec`` before importing anything,
  and moves on to the next when one lacks the SDK. Nothing ties it to one checkout's
  virtualenv: a program runs while another project's virtualenv is being rebuilt.
* Not implemented (the engine gets UNIMPLEMENTED, or an error): creating a missing
  virtualenv or installing dependencies (``InstallDependencies``; the engine tolerates
  this), running ``uv sync``, the poetry toolchain, attaching a debugger, ``RunPlugin``
  (plugins written in Python), code generation, ``Pack``, ``Link``, ``Template`` and
  ``RuntimeOptionsPrompts``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from concurrent import futures
from typing import Any

#: An interpreter for the host itself, taken as is (see the module's docstring).
ENV_HOST_PYTHON = "PULUMI_LANGUAGE_PYTHON_HOST_PYTHON"
#: The interpreters this start of the host already moved away from, so that it never loops.
ENV_TRIED = "PULUMI_LANGUAGE_PYTHON_HOST_TRIED"
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")


def _searchup(directory: str, name: str) -> str | None:
    """The nearest directory at or above ``directory`` holding ``name`` (toolchain.searchup)."""
    current = os.path.abspath(directory)
    while True:
        if os.path.exists(os.path.join(current, name)):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def resolve_toolchain(program_directory: str, toolchain: str) -> str:
    """The toolchain an absent option means: uv with a uv.lock, poetry with a poetry.lock, else pip."""
    if toolchain:
        return toolchain
    if _searchup(program_directory, "uv.lock"):
        return "uv"
    if _searchup(program_directory, "poetry.lock"):
        return "poetry"
    return "pip"


def resolve_virtualenv(root: str, program_directory: str, virtualenv: str, toolchain: str) -> str:
    """The absolute virtualenv directory of a program, or "" for none (as upstream's newPip/newUv)."""
    if toolchain == "uv" and not virtualenv:
        project = (
            _searchup(program_directory, "uv.lock")
            or _searchup(program_directory, "pyproject.toml")
            or program_directory
        )
        virtualenv = os.path.join(project, os.environ.get("UV_PROJECT_ENVIRONMENT") or ".venv")
    if not virtualenv:
        return ""
    return os.path.normpath(virtualenv if os.path.isabs(virtualenv) else os.path.join(root, virtualenv))


# -- the interpreter of the host itself: chosen before anything but the standard library is imported --


def _block_yaml(text: str) -> dict[str, Any]:
    """The block mappings of a YAML document, values as strings: enough for ``runtime.options``."""
    top: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, top)]
    for raw in text.splitlines():
        line = re.sub(r"\s+#.*$", "", raw).rstrip()
        if not line.strip() or line.lstrip().startswith(("#", "-", "---")):
            continue
        indent = len(line) - len(line.lstrip())
        key, colon, value = line.strip().partition(":")
        if not colon:
            continue
        while indent <= stack[-1][0]:
            stack.pop()
        key, value = key.strip().strip("\"'"), value.strip()
        if value:
            stack[-1][1][key] = value.strip("\"'")
        else:
            child: dict[str, Any] = {}
            stack[-1][1][key] = child
            stack.append((indent, child))
    return top


def program_virtualenv_python(directory: str) -> str | None:
    """The python of the virtualenv that the project around ``directory`` declares, if any."""
    root = next((d for d in (_searchup(directory, f) for f in PROJECT_FILES) if d), None)
    if root is None:
        return None
    path = next(os.path.join(root, f) for f in PROJECT_FILES if os.path.isfile(os.path.join(root, f)))
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            import yaml

            project = yaml.safe_load(text)
        except ImportError:
            project = _block_yaml(text)
        runtime = project.get("runtime") if isinstance(project, dict) else None
        options = runtime.get("options") if isinstance(runtime, dict) else None
        options = options if isinstance(options, dict) else {}
        virtualenv, toolchain = options.get("virtualenv") or "", options.get("toolchain") or ""
        if not isinstance(virtualenv, str) or not isinstance(toolchain, str):
            return None
        program_directory = root
        if isinstance(project, dict) and isinstance(project.get("main"), str):
            main = os.path.join(root, project["main"])
            program_directory = main if os.path.isdir(main) else os.path.dirname(main)
        toolchain = resolve_toolchain(program_directory, toolchain)
        venv = resolve_virtualenv(root, program_directory, virtualenv, toolchain)
    except Exception:  # an unreadable project leaves the other candidates
        return None
    return os.path.join(venv, "bin", "python") if venv else None


def _same_python(a: str, b: str) -> bool:
    """Whether two paths start the same interpreter in the same environment (a virtualenv's
    python and python3 do; the base python its python links to does not)."""
    a, b = os.path.abspath(a), os.path.abspath(b)
    return os.path.dirname(a) == os.path.dirname(b) and os.path.realpath(a) == os.path.realpath(b)


def choose_host_python(running_lacks_sdk: bool) -> None:
    """``exec`` this host under the best interpreter for it, unless it runs under that one."""
    if os.environ.get(ENV_HOST_PYTHON):
        return
    tried = {p for p in os.environ.get(ENV_TRIED, "").split(os.pathsep) if p}
    if running_lacks_sdk:
        tried.add(sys.executable)
    venv = os.environ.get("VIRTUAL_ENV")
    candidates = [
        program_virtualenv_python(os.getcwd()),
        os.path.join(venv, "bin", "python") if venv else None,
        shutil.which("python3"),
        shutil.which("python"),
    ]
    for python in candidates:
        if not python or not os.access(python, os.X_OK):
            continue
        if _same_python(python, sys.executable):
            if running_lacks_sdk:
                continue
            return  # the best one is running
        if any(_same_python(python, t) for t in tried):
            continue
        os.environ[ENV_TRIED] = os.pathsep.join(sorted(tried | {python}))
        sys.stdout.flush()
        os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])  # noqa: S606 - the same host


if __name__ == "__main__":
    choose_host_python(running_lacks_sdk=False)

try:
    import grpc
    from google.protobuf import empty_pb2, json_format
    from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    if __name__ == "__main__":
        choose_host_python(running_lacks_sdk=True)
    sys.stderr.write(
        f"pulumi-language-python: {exc}\n"
        f"The interpreter {sys.executable} running the language host needs the `pulumi` "
        "package (with grpcio), and so did every other one it tried: the program's virtualenv "
        "(Pulumi.yaml's runtime.options.virtualenv), $VIRTUAL_ENV, python3 and python on PATH. "
        f"Create the program's virtualenv, or set {ENV_HOST_PYTHON} to a python that has them.\n"
    )
    sys.exit(1)
os.environ.pop(ENV_TRIED, None)

# The exec shim exits with this code after it has shown the user an actionable error.
EXIT_CODE_BAIL = 32
MAX_MESSAGE_BYTES = 400 * 1024 * 1024

# Packages named pulumi-* that are known not to come with a resource plugin.
PACKAGES_WITHOUT_PLUGINS = {"pulumi-policy", "pulumi_policy", "pulumi-esc-sdk", "pulumi_esc_sdk"}

# Run by the program's interpreter: every installed distribution, as JSON, with the path of
# its `<module>/pulumi-plugin.json` if it has one (found through the import system for
# pulumi-* packages, so that editable installs are covered too).
LIST_DISTRIBUTIONS = r"""
import importlib.metadata as md, importlib.util, json, os, sys
seen, out = set(), []
for dist in md.distributions():
    meta = dist.metadata  # parsed once: each of dist.version and dist.requires parses it again
    name = meta["Name"]
    if not name:
        continue
    key = name.lower().replace("_", "-").replace(".", "-")
    if key in seen:
        continue
    seen.add(key)
    module = name.replace("-", "_")
    places = [str(dist.locate_file(module))]
    if key.startswith("pulumi-"):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        places += list(spec.submodule_search_locations or []) if spec else []
    plugin_json = next(
        (p for p in (os.path.join(d, "pulumi-plugin.json") for d in places) if os.path.isfile(p)), None
    )
    requires = meta.get_all("Requires-Dist")
    out.append({"name": name, "version": meta["Version"],
                "requires": (dist.requires if requires is None else requires) or [],
                "plugin_json": plugin_json})
json.dump(out, sys.stdout)
"""


class HostError(Exception):
    """An error reported to the engine as a failed RPC (the upstream host returns an error)."""


def normalize_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def plugin_version_from_pep440(version: str) -> str | None:
    """Turn a PEP 440 package version into the semver of its plugin, or None if not possible.

    1.2 -> 1.2.0, 1.2.3a4 -> 1.2.3-alpha.4, 1.2.3rc1 -> 1.2.3-rc.1, 1.2.3.post4 -> 1.2.3+post4,
    1.2.3.dev5 -> 1.2.3+dev5, 1.2.3.post4.dev5 -> 1.2.3+post4dev5. Epochs and local versions
    are not supported.
    """
    m = re.fullmatch(
        r"(?P<release>\d+(?:\.\d+)*)(?:(?P<pre>a|b|rc)(?P<pren>\d*))?"
        r"(?:\.post(?P<post>\d*))?(?:\.dev(?P<dev>\d*))?",
        version,
    )
    if not m:
        return None
    segments = m["release"].split(".")
    segments += ["0"] * (3 - len(segments))
    result = ".".join(segments)
    if m["pre"]:
        result += "-" + {"a": "alpha", "b": "beta", "rc": "rc"}[m["pre"]] + "." + m["pren"]
    build = ""
    if m["post"] is not None:
        build += "post" + m["post"]
    if m["dev"] is not None:
        build += "dev" + m["dev"]
    if build:
        result += "+" + build
    return result


class Interpreter:
    """The Python that runs the program: the project's virtualenv or an ambient python."""

    def __init__(self, info: Any) -> None:
        options = json_format.MessageToDict(info.options) if info.HasField("options") else {}
        self.root = info.root_directory or os.getcwd()
        self.program_directory = info.program_directory or self.root

        virtualenv = options.get("virtualenv", "")
        if not isinstance(virtualenv, str):
            raise HostError("virtualenv option must be a string")
        toolchain = options.get("toolchain", "")
        if not isinstance(toolchain, str):
            raise HostError("toolchain option must be a string")
        if toolchain not in ("", "pip", "uv", "poetry"):
            raise HostError(f"unsupported toolchain option: {toolchain}")
        toolchain = resolve_toolchain(self.program_directory, toolchain)
        if toolchain == "poetry":
            raise HostError("the poetry toolchain is not supported by this language host")
        self.typechecker = options.get("typechecker", "")
        if self.typechecker not in ("", "mypy", "pyright"):
            raise HostError(f"unsupported typechecker option: {self.typechecker}")

        self.virtualenv = resolve_virtualenv(self.root, self.program_directory, virtualenv, toolchain)
        self.virtualenv_option = virtualenv or self.virtualenv
        self.env = dict(os.environ)
        if self.virtualenv:
            self.python = os.path.join(self.virtualenv, "bin", "python")
            self.env.pop("PYTHONHOME", None)
            self.env["PATH"] = os.path.join(self.virtualenv, "bin") + os.pathsep + self.env.get("PATH", "")
            self.env["VIRTUAL_ENV"] = self.virtualenv
        else:
            candidates = [os.environ.get("PULUMI_PYTHON_CMD", ""), "python3", "python"]
            found = [path for path in (shutil.which(c) for c in candidates if c) if path]
            if not found:
                raise HostError("failed to locate any of python3, python on PATH (or PULUMI_PYTHON_CMD)")
            self.python = found[0]

    def validate(self) -> None:
        if self.virtualenv and not os.path.isfile(self.python):
            what = (
                "doesn't exist"
                if not os.path.exists(self.virtualenv)
                else "doesn't appear to be a virtual environment"
            )
            raise HostError(
                f"The 'virtualenv' option in Pulumi.yaml is set to {self.virtualenv_option!r}, but "
                f"{self.virtualenv!r} {what}; create it and install the program's dependencies into it:\n\n"
                f"    1. python3 -m venv {self.virtualenv}\n"
                f"    2. {self.python} -m pip install -r requirements.txt\n"
            )

    def output(self, *args: str) -> str:
        self.validate()
        proc = subprocess.run(
            [self.python, *args],
            env=self.env,
            cwd=self.program_directory,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            command = " ".join([self.python, *args])
            raise HostError(f"calling `{command}`: exit status {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout

    def distributions(self) -> list[dict[str, Any]]:
        dists: list[dict[str, Any]] = json.loads(self.output("-c", LIST_DISTRIBUTIONS))
        return dists


def read_plugin_json(dist: dict[str, Any]) -> dict[str, Any] | None:
    path = dist.get("plugin_json")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            plugin: dict[str, Any] = json.load(f)
            return plugin
    except (OSError, ValueError) as exc:
        raise HostError(f"reading {path}: {exc}") from exc


def package_dependency(dist: dict[str, Any]) -> Any | None:
    plugin = read_plugin_json(dist)
    if plugin is None and not dist["name"].startswith(("pulumi-", "pulumi_")):
        return None
    if dist["name"] in PACKAGES_WITHOUT_PLUGINS:
        return None
    plugin = plugin or {"resource": True}
    if not plugin.get("resource", False):
        return None
    name = plugin.get("name") or dist["name"].removeprefix("pulumi-")
    version = plugin.get("version") or plugin_version_from_pep440(dist["version"])
    if not version:
        return None
    if not version.startswith("v"):
        version = "v" + version
    dep = plugin_pb2.PackageDependency(
        name=name, version=version, kind="resource", server=plugin.get("server", "")
    )
    param = plugin.get("parameterization")
    if param:
        dep.parameterization.CopyFrom(
            plugin_pb2.PackageParameterization(
                name=param.get("name", ""),
                version=param.get("version", ""),
                value=base64.b64decode(param.get("value", "") or ""),
            )
        )
    return dep


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, executor: str, engine_address: str, tracing: str, version: str) -> None:
        self.executor = executor
        self.engine_address = engine_address
        self.tracing = tracing
        self.version = version
        self.children: set[subprocess.Popen[bytes]] = set()
        self.lock = threading.Lock()

    # Errors the upstream host returns as RPC errors reach the engine as UNKNOWN with the message.
    def _guard(self, context: Any, fn: Any) -> Any:
        try:
            return fn()
        except HostError as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))

    def Handshake(self, request: Any, context: Any) -> Any:
        self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=self.version)

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:
        def go() -> Any:
            dists = Interpreter(request.info).distributions()
            deps = [d for d in (package_dependency(dist) for dist in dists) if d is not None]
            return language_pb2.GetRequiredPackagesResponse(packages=deps)

        return self._guard(context, go)

    def GetProgramDependencies(self, request: Any, context: Any) -> Any:
        def go() -> Any:
            dists = Interpreter(request.info).distributions()
            if not request.transitiveDependencies:
                required = set()
                for dist in dists:
                    for req in dist["requires"]:
                        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
                        if m:
                            required.add(normalize_name(m.group(1)))
                dists = [d for d in dists if normalize_name(d["name"]) not in required]
            deps = [
                language_pb2.DependencyInfo(name=normalize_name(d["name"]), version=d["version"])
                for d in dists
            ]
            return language_pb2.GetProgramDependenciesResponse(dependencies=deps)

        return self._guard(context, go)

    def About(self, request: Any, context: Any) -> Any:
        def go() -> Any:
            interp = Interpreter(request.info)
            out = interp.output("-c", "import sys; print(sys.executable); print(sys.version.split()[0])")
            executable, version = out.splitlines()[:2]
            return language_pb2.AboutResponse(executable=executable, version=version)

        return self._guard(context, go)

    def Cancel(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    def Run(self, request: Any, context: Any) -> Any:
        return self._guard(context, lambda: self._run(request))

    def _run(self, req: Any) -> Any:
        if req.attach_debugger:
            return language_pb2.RunResponse(
                error="attaching a debugger is not supported by this language host"
            )
        interp = Interpreter(req.info)
        interp.validate()

        args = [self.executor]
        for flag, value in (
            ("monitor", req.monitor_address),
            ("engine", self.engine_address),
            ("project", req.project),
            ("root_directory", req.info.root_directory),
            ("stack", req.stack),
            ("pwd", req.pwd),
            ("dry_run", "true" if req.dryRun else "false"),
            ("parallel", str(req.parallel)),
            ("tracing", self.tracing),
            ("organization", req.organization),
        ):
            if value:
                args += ["--" + flag, value]
        args.append(req.info.entry_point or req.program or ".")
        args += list(req.args)

        env = dict(interp.env)
        if req.config:
            env["PULUMI_CONFIG"] = json.dumps(dict(req.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(req.configSecretKeys))

        if interp.typechecker:
            check = ["-m", interp.typechecker]
            if interp.typechecker == "mypy" and interp.virtualenv:
                check += ["--exclude", os.path.relpath(interp.virtualenv, interp.program_directory)]
            check.append(interp.program_directory)
            rc = subprocess.call([interp.python, *check], env=interp.env, cwd=interp.program_directory)
            if rc != 0:
                raise HostError(f"{interp.typechecker} failed: exit status {rc}")

        sys.stdout.flush()
        sys.stderr.flush()
        try:
            child = subprocess.Popen([interp.python, *args], env=env)
        except OSError as exc:
            return language_pb2.RunResponse(
                error=f"problem executing program (could not run language executor): {exc}"
            )
        with self.lock:
            self.children.add(child)
        try:
            code = child.wait()
        finally:
            with self.lock:
                self.children.discard(child)
        if code == 0:
            return language_pb2.RunResponse()
        if code == EXIT_CODE_BAIL:
            return language_pb2.RunResponse(bail=True)
        if code < 0:
            return language_pb2.RunResponse(
                error=f"program exited unexpectedly: signal: {signal.Signals(-code).name}"
            )
        return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {code}")

    def stop_children(self) -> None:
        with self.lock:
            children = list(self.children)
        for child in children:
            if child.poll() is None:
                child.terminate()


def parse_args(argv: list[str]) -> dict[str, str]:
    """Go-style flags as the engine passes them; the first non-flag argument is the engine address."""
    valued = {"tracing", "use-executor", "host-version", "virtualenv", "root", "typechecker", "toolchain"}
    opts: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i + 1 :]
            break
        if arg.startswith("-") and len(arg) > 1 and not rest:
            name, eq, value = arg.lstrip("-").partition("=")
            if name in valued and not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            opts[name] = value
        else:
            rest.append(arg)
        i += 1
    opts["engine"] = rest[0] if rest else ""
    return opts


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    executor = opts.get("use-executor") or os.path.join(here, "pulumi-language-python-exec")
    if not os.path.isfile(executor):
        sys.stderr.write(f"pulumi-language-python: missing executor {executor}\n")
        return 1
    version = opts.get("host-version") or "0.0.0"

    host = LanguageHost(executor, opts["engine"], opts.get("tracing", ""), version)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=16),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    # Exit when the engine that started us goes away.
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            break

    host.stop_children()
    server.stop(grace=2).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
