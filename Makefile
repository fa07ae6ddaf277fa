# guidecast: two commands. `make demo` and `make test` both set everything up first.
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed
OUT ?= out/demo

NODE_DIR ?= .cache/node
.PHONY: setup system-deps venv node-deps apps-deps demo lint types test test-fast bench cluster cluster-down clean extension lint-extension test-extension

setup: system-deps venv node-deps apps-deps

# Debian packages: installed only when a command is missing.
system-deps:
	@bash scripts/system-deps.sh

# npm packages the tests use (scorm-again, a SCORM 1.2 runtime), into .cache/node/ (git-ignored).
node-deps: system-deps
	@bash scripts/node-deps.sh

# Third-party apps the real-app tests record (Datasette, Wagtail), each in its own venv under .cache/apps/.
apps-deps: system-deps
	@bash scripts/apps-deps.sh

venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	@echo "guidecast: installing the Python package into .venv (log: .venv/install.log)"
	@$(PY) -m pip install --upgrade pip > .venv/install.log 2>&1 || { cat .venv/install.log; exit 1; }
	@$(PY) -m pip install -e '.[dev,neural]' >> .venv/install.log 2>&1 || { tail -40 .venv/install.log; exit 1; }
	@touch $(VENV_STAMP)

demo: setup
	@$(PY) -m guidecast demo --out $(OUT)

# Lint and types: ruff over the tree, mypy over the package (strict on the kernel, the core and the models).
lint: venv
	@.venv/bin/ruff check .

types: venv
	@.venv/bin/mypy

# The browser extension (capture/extension/): build/extension/guidecast-recorder/ (load unpacked) and .zip.
extension: venv
	@$(PY) -m guidecast.capture.extension_build build/extension

# Its JavaScript: eslint (config copied beside the npm packages, whose imports it resolves there), node's tests.
lint-extension: node-deps
	@cp capture/extension/eslint.config.js $(NODE_DIR)/guidecast-eslint.config.js
	@$(NODE_DIR)/node_modules/.bin/eslint -c $(NODE_DIR)/guidecast-eslint.config.js capture/extension

test-extension: extension
	@node --test capture/extension/test/

# Everything: lint, types, the extension's JavaScript, then the whole suite (browser and video tests included).
test: setup lint types lint-extension test-extension
	@$(PY) -m pytest -q

# The fast tier: unit and in-process tests, no browser, no video, no wheel build (well under 90 s).
test-fast: venv
	@$(PY) -m pytest -q -m "not browser and not video and not slow"

bench: setup
	@for b in bench/*/run.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# The scale-out stack on this machine: PostgreSQL, SeaweedFS, 2 web processes, 2 workers, the sample guide
# built through the API (scripts/cluster.py); cluster-down stops what it started.
cluster: setup
	@$(PY) scripts/cluster.py up

cluster-down:
	@$(PY) scripts/cluster.py down

clean:
	rm -rf out .pytest_cache
