# The index of what one can run here. `make demo` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Test workers: the end-to-end tests spend most of their time waiting on the engine.
WORKERS ?= 2

.PHONY: setup pulumi test test-fast lint demo clean

setup: $(STAMP)

# Re-installs only when the dependencies change; the package itself is editable.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,simulator,cli]'
	@touch $(STAMP)

# Prints the directory holding the Pulumi CLI and its Python plugins (built once, then cached).
pulumi:
	@scripts/ensure-pulumi.sh

# The CLI's directory is the last line ensure-pulumi.sh prints; its failure stops the target.
ENSURE_PULUMI = out=$$(scripts/ensure-pulumi.sh) && bin_dir=$$(printf '%s\n' "$$out" | tail -n 1)

test: setup
	@$(ENSURE_PULUMI) && \
	  PATH="$$bin_dir:$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -n $(WORKERS) --dist loadgroup

# Everything but the end-to-end tests: no Pulumi CLI needed.
test-fast: setup
	$(PY) -m pytest -n $(WORKERS) -m "not e2e"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

demo: setup
	@$(ENSURE_PULUMI) && \
	  PATH="$$bin_dir:$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
