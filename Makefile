# The index of what one can run here. `make demo` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Test workers, one per core: the engine-driven tests are CPU-bound (Python starting in every
# plugin), 4 workers were 1.37x slower than 2 on 2 cores. The engine's tests run first
# (tests/conftest.py), so the quick ones fill the workers' gaps at the end. loadgroup: a module
# marked xdist_group runs on one worker (the old states' simulator at its fixed port, the wheel
# built once); work-stealing, 0.65x the wall time of --dist load, does not keep such groups.
WORKERS ?= 2
PYTEST_XDIST := -n $(WORKERS) --dist loadgroup

.PHONY: setup pulumi pulumi-yaml actionlint test test-fast lint docs dist demo reliability bench bench-5000 shards-bench \
	billing-chart bench-usage clean

setup: $(STAMP)

# Re-installs only when the dependencies change; the package itself is editable. Every module is
# compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on these machines), those .pyc are
# the only ones, and without them each Python the engine starts compiles all it imports again.
$(STAMP): pyproject.toml constraints.txt Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt \
	  -e '.[dev,simulator,cli,docs,billing]'
	@touch $(STAMP)

# Prints the directory holding the Pulumi CLI and its Python plugins (built once, then cached).
pulumi:
	@scripts/ensure-pulumi.sh

# Prints the directory holding Pulumi's YAML language host, pulumi-language-yaml (built once with Go,
# then cached; make test runs the YAML example with it).
pulumi-yaml:
	@scripts/ensure-pulumi-yaml.sh

# Prints the directory holding the pinned actionlint (built once with Go, then cached).
actionlint:
	@scripts/ensure-actionlint.sh

# `$(WITH) pulumi -- COMMAND`: COMMAND with the Pulumi CLI (or the YAML language host, or actionlint,
# or several), then this checkout's .venv, first on PATH; each is built once, then cached, and if one
# cannot be, COMMAND does not run (scripts/with-tools.sh).
WITH := scripts/with-tools.sh
# actionlint checks the example CI workflows (shellcheck comes with the dev extra).
WORKFLOWS := examples/fleet/.github/workflows/pulumi.yml examples/shards/.github/workflows/pulumi.yml examples/release/.github/workflows/release.yml

# tests/compat serves the old states' simulator at the fixtures' fixed port: one process runs it,
# after the others (xdist's groups were seen split over both workers, which then fought for the port).
test: setup
	@$(WITH) pulumi-yaml pulumi actionlint -- $(PY) -m pytest $(PYTEST_XDIST) --ignore=tests/compat
	@$(WITH) pulumi -- $(PY) -m pytest tests/compat

# Everything but the end-to-end tests and those needing the tools above: no Pulumi CLI, no Go.
test-fast: setup
	$(PY) -m pytest $(PYTEST_XDIST) -m "not e2e and not tools"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@$(WITH) actionlint -- actionlint $(WORKFLOWS)

# The documentation site: the generated pages (scripts/gen_docs.py: the command reference, the
# simulator's flags, the limits, the modules), then `mkdocs build --strict` into site/.
docs: setup
	$(PY) scripts/gen_docs.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir site

# The sdist and the wheel, into dist/, built in an isolated environment as pip would (the wheel
# from the sdist), then checked as PyPI will. Its own small venv: build and twine, nothing of the
# development toolset; PIP_CONSTRAINT pins the build backend and its plugins in build's environment.
DIST_VENV  := .venv-dist
DIST_STAMP := $(DIST_VENV)/.installed
$(DIST_STAMP): constraints.txt
	@test -x $(DIST_VENV)/bin/python || $(PYTHON) -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt build twine
	@touch $(DIST_STAMP)

dist: $(DIST_STAMP)
	rm -rf dist
	PIP_CONSTRAINT="$(CURDIR)/constraints.txt" $(DIST_VENV)/bin/python -m build --outdir dist .
	$(DIST_VENV)/bin/python -m twine check --strict dist/*

demo: setup
	@$(WITH) pulumi -- $(PY) scripts/demo.py

# Fault and crash scenarios through the real engine: a table of duplicates, orphans and purges.
reliability: setup
	@$(WITH) pulumi -- $(PY) scripts/reliability.py

# Fleet scale: start-up and check cost against the floor (scripts/bench_start.py, a minute), then
# (scripts/bench.py) ours, the floor and the naive provider side by side, N = 10, 100,
# 1000 (that one without the state write after every step); BENCH_ARGS passes flags (--reps, --sizes,
# --variants, --keep-checkpoints, --section ...). About 10 minutes on 2 quiet cores. Each writes its
# figures, with the command, the date, the load and the machine, into its section of
# docs/benchmarks.md (start-up, fleet-scale).
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) scripts/bench_start.py
	@$(WITH) pulumi -- $(PY) scripts/bench.py $(BENCH_ARGS)

# One program of 5000 organizations: its first preview, its up and an unchanged preview. The file
# backend's state write after every step grows with N squared (hours at 5000 on 2 cores), so by default
# the engine writes the state once, at the end; `make bench-5000 CHECKPOINTS=--keep-checkpoints`
# keeps every write. Its figures go into the section fleet-5000 of docs/benchmarks.md.
CHECKPOINTS ?= --skip-checkpoints
bench-5000: $(BENCH_STAMP)
	@$(WITH) pulumi -- $(PY) scripts/bench.py --sizes 5000 --variants ours --phases preview-create,up,preview \
	  $(CHECKPOINTS) --out bench-out/5000 --section fleet-5000 $(BENCH_ARGS)
# One stack of N customers against K shard stacks of N/K (examples/shards), side by side: wall time of
# up and of an unchanged preview, on a local S3 server. SHARDS_BENCH_ARGS="--customers 1000 --destroy".
SHARDS_BENCH_ARGS ?= --customers 400 --shards 4 --latency-ms 20
shards-bench: setup
	@$(WITH) pulumi -- $(PY) examples/shards/bench.py $(SHARDS_BENCH_ARGS)

# The billing extra (matplotlib) for `usage --chart`: installed by these targets only.
BILLING_STAMP := $(VENV)/.billing-installed
$(BILLING_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[billing]'
	@touch $(BILLING_STAMP)

# A year of billing on the simulator (20 customers): the line-level export into bench-out/billing/,
# and the charts of docs/guides/billing.md into docs/img/ (scripts/billing_demo.py).
billing-chart: $(BILLING_STAMP)
	$(PY) scripts/billing_demo.py

# `usage --all` over 1,000 organizations x 12 months against the simulator with 20 ms of latency:
# cold, cached, resumed after a kill; its figures go into the section usage-fleet of
# docs/benchmarks.md. BENCH_USAGE_ARGS="--organizations 200 --months 6" for a smaller run.
BENCH_USAGE_ARGS ?=
bench-usage: setup
	$(PY) scripts/bench_usage.py $(BENCH_USAGE_ARGS)

clean:
	rm -rf $(VENV) $(DIST_VENV) .pytest_cache .mypy_cache .ruff_cache dist site
